// ComfyUI frontend extension: with the setting on, this tab follows /taesd-web/ws, decodes each
// step latent on its own GPU (WebGPU; the linear preview where there is none) and shows it where
// ComfyUI shows its own preview, by raising the same event ComfyUI's socket raises for one.
// Off (the default) it opens no socket and changes nothing. lib/ is built by
// `npm run build:comfyui` (scripts/build-comfyui-web.mjs) from taesd-web/comfyui.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { ComfyPreviewClient } from "./lib/taesd-web-comfyui.js";

const SETTING = "TaesdWeb.DecodeInBrowser";
const RECONNECT_MS = 3000;
let client = null;
let wanted = false;
// The prompt this tab runs (ComfyUI sends execution_start only to the tab that queued it); "-"
// matches none, so until then this tab draws no one else's steps into its nodes.
let promptId = "-";

const WEIGHTS_CACHE = "taesd-web-weights";

// The node serves models/vae_approx, else redirects to the pinned upstream file: those (pinned, so
// never changing) are kept in the Cache API; a local file is left to the HTTP cache.
async function weights(model) {
  const url = new URL(api.apiURL(`/taesd-web/weights/${model}`), location.href).href;
  try {
    const cache = await caches.open(WEIGHTS_CACHE);
    const hit = await cache.match(url);
    if (hit) return new Uint8Array(await hit.arrayBuffer());
    const res = await fetch(url);
    if (!res.ok) return url; // the decoder's own fetch reports it, with a typed error
    if (res.redirected) await cache.put(url, res.clone());
    return new Uint8Array(await res.arrayBuffer());
  } catch {
    return url; // no Cache API here (not a secure context)
  }
}

async function toBlob(image) {
  const canvas = new OffscreenCanvas(image.width, image.height);
  canvas.getContext("2d").putImageData(new ImageData(image.data, image.width, image.height), 0, 0);
  return canvas.convertToBlob({ type: "image/png" });
}

// Video steps play their frames in the node's preview until the next step arrives.
const FRAMES_PER_SECOND = 12;
const players = new Map();

function show(message, blob) {
  const { nodeId, promptId } = message;
  // What ComfyUI's own socket raises for a preview with metadata: the node's preview shows it.
  api.dispatchCustomEvent("b_preview_with_metadata", {
    blob, nodeId, displayNodeId: nodeId, parentNodeId: nodeId, realNodeId: nodeId, promptId, jobId: promptId,
  });
}

function stopPlaying(nodeId) {
  clearInterval(players.get(nodeId));
  players.delete(nodeId);
}

async function follow(c) {
  for await (const p of c.previews()) {
    if (p.error) {
      console.warn(`taesd-web: step not decoded: [${p.error.code}] ${p.error.message}`);
      continue;
    }
    const frames = await Promise.all((p.kind === "video" ? p.images : p.images.slice(0, 1)).map(toBlob));
    if (client !== c) return; // turned off (or reconnected) while this step was decoding: show nothing
    stopPlaying(p.message.nodeId);
    show(p.message, frames[0]);
    if (frames.length > 1) {
      let i = 0;
      players.set(p.message.nodeId, setInterval(() => show(p.message, frames[(i = (i + 1) % frames.length)]), 1000 / FRAMES_PER_SECOND));
    }
  }
}

function start() {
  wanted = true;
  if (client) return;
  client = new ComfyPreviewClient({
    url: new URL(api.apiURL(""), location.href).href,
    promptId,
    weights,
    decoder: { backend: navigator.gpu ? "webgpu" : "linear" },
  });
  const c = client;
  follow(c).catch((e) => console.error("taesd-web:", e)).finally(() => {
    if (client !== c) return;
    client = null;
    if (wanted) setTimeout(() => wanted && start(), RECONNECT_MS); // the server restarted or the socket dropped
  });
}

function stop() {
  wanted = false;
  for (const nodeId of [...players.keys()]) stopPlaying(nodeId);
  client?.close();
  client = null;
}

app.registerExtension({
  name: "taesd-web.preview",
  settings: [{
    id: SETTING,
    name: "Decode step previews in this browser (taesd-web; needs the 'taesd-web preview' node on the model)",
    category: ["taesd-web", "Previews", "Decode in browser"],
    type: "boolean",
    defaultValue: false,
    onChange: (on) => (on ? start() : stop()),
  }],
  setup() {
    api.addEventListener("execution_start", ({ detail }) => {
      promptId = detail.prompt_id;
      client?.subscribe(promptId);
    });
    if (app.extensionManager?.setting?.get(SETTING) ?? app.ui.settings.getSettingValue(SETTING)) start();
  },
});
