// What --help prints: the overview, and each command's synopsis, description and options.
import { MODEL_IDS } from '../model/registry.js';
import { optionLines, type Command } from './options.js';

const SYNOPSIS: Record<Command, string> = {
  decode: 'taesd-web decode (<latent-file...> | --example) (--out <file> | --out-dir <dir>) [options]',
  progress: 'taesd-web progress (<latent-file...> | --example) --job-id <id> [options]',
  'fetch-models': 'taesd-web fetch-models [<id...>] [--dir <dir>] [--from <dir> | --base-url <url>]',
};

const ABOUT: Record<Command, string> = {
  decode: `Decodes latent files to images (or raw float32 .safetensors). Latent files: .safetensors
(tensor "latent"), ComfyUI .latent ("latent_tensor", read as VAE space), .npy; [C,h,w], [1,C,h,w]
or a batch [N,C,h,w]. Outputs are written atomically; none may be an input or another's output.`,
  progress: `Writes a progress job folder from latent files, one per step in order: progress.json,
latest.<ext>, <prefix>_NNNN.<ext>, <prefix>_final.<ext>. Ctrl-C (SIGINT) or SIGTERM ends the job
with status "cancelled", releases its lock and exits 130 / 143.`,
  'fetch-models': `Downloads upstream decoders (default: every TAESD one but the shipped taef2;
the TAEHV video decoders by id) into the per-user cache, from the pinned GitHub commit or a
mirror, or copies them from a folder; each is kept only when its git blob id matches
models/manifest.json. Downloads stop after 30 s without data and at the weights size limit;
a progress bar shows the size on a terminal.`,
};

/** `taesd-web <command> --help`. */
export function commandHelp(command: Command): string {
  return `usage: ${SYNOPSIS[command]}\n\n${ABOUT[command]}\n\nOptions:\n${optionLines(command)}`;
}

/** `taesd-web --help`. */
export const USAGE = `taesd-web: previews of diffusion latents with TAESD decoders

usage: ${SYNOPSIS.decode}
       ${SYNOPSIS.progress}
       ${SYNOPSIS['fetch-models']}
       taesd-web --help | --version

Models: ${MODEL_IDS.join(', ')}. taesd-web <command> --help lists a command's options and defaults.
Exit codes: 0 done, 1 failed (the message names the error code and file), 2 usage.
`;
