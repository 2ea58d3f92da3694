// A Node viewer of the ComfyUI bridge's route (run by test/comfyui.test.ts, with
// --experimental-websocket where Node has no global WebSocket): the built taesd-web/comfyui,
// the first decoded step printed as JSON (its message fields and the image's RGBA as base64).
// argv: <dist entry> <route url> <weights file> <backend>
const [entry, url, weights, backend] = process.argv.slice(2);
const { ComfyPreviewClient } = await import(entry);
const client = new ComfyPreviewClient({ url, weights: () => weights, decoder: { backend } });
for await (const p of client.previews()) {
  if (p.error) {
    process.stdout.write(JSON.stringify({ error: `${p.error.code}: ${p.error.message}` }));
    break;
  }
  const [image] = p.images;
  const { latent, metadata, ...message } = p.message;
  process.stdout.write(JSON.stringify({ message, kind: p.kind, width: image.width, height: image.height, rgba: Buffer.from(image.data).toString('base64') }));
  break;
}
client.close();
