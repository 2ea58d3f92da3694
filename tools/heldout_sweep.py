#!/usr/bin/env python3
"""Held-out sweep: the CLI's TAEHV video decodes against upstream's taehv.py, case by case.

    npm run build && /usr/bin/python3 tools/heldout_sweep.py [--cases 300] [--seed 1] [--no-big] [--no-bad]

Needs Debian's python (torch, numpy), ../shared (the random-weight checkpoints) and upstream's
taehv.py (madebyollin/taehv@1f14a56) at --taehv. For each model id it writes the random weights of
../shared/models/test as upstream publishes them (a whole fp16 checkpoint under the upstream file
name, since upstream picks its per-model rules by that name; models with another's shapes reuse
its weights, taehv1_5_super takes taew2_2_super's first 32 latent channels) and in the other forms
the CLI reads (decoder-only .pth with bare or `decoder.` keys, .safetensors in fp16 and f32); then
it samples cases, every option value about equally often and the cheapest first: latent T (1-7,
11), odd h x w, --scale, --time-scale, --chunk, backend and WebGPU precision, latent dtype
(f32/f16/bf16), 4-D or 5-D, .safetensors or a torch.save'd .pth (a non-contiguous view), weights
form or --model left to the file name, random values or crops of the real Wan latent in
examples/wan.safetensors (and the whole of it on each backend, last). Each case is decoded by
`node bin/taesd-web.js decode ... --out x.safetensors` and by upstream's decode_video (float32,
CPU, parallel; a space skip is its nn.Upsample made the identity, a time skip its TGrow cut to the
last-timestep rows as patch_tgrow_layers does), and the frame counts and values are compared
(max |diff| <= 2e-3; WebGPU f16 <= 3/255). Last, bad inputs: each must exit non-zero within 15 s
with one typed error line, no stack trace and no output file. Prints each failure with the command
that repeats it, then cases per option and the largest diff per backend; exits 1 on any failure.
"""
import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
import types

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, '..', 'shared')
CLI = ['node', os.path.join(ROOT, 'bin', 'taesd-web.js'), 'decode']

# id -> (random-weight file in shared/models/test, latent channels kept: taehv1_5_super is taew2_2_super's first 32)
MODELS = {
    'taew2_1': ('taew2_1', None), 'taehv': ('taew2_1', None), 'taecvx': ('taew2_1', None), 'taeos1_3': ('taew2_1', None),
    'taew2_2': ('taew2_2', None), 'taehv1_5': ('taehv1_5', None), 'taew2_2_super': ('taew2_2_super', None),
    'taehv1_5_super': ('taew2_2_super', 32), 'taeltx_2': ('taeltx_2', None), 'taeltx2_3': ('taeltx_2', None), 'taeh3': ('taeh3', None),
}
# how the weights are handed over: a whole checkpoint as published (fp16; also as .safetensors, and
# upcast to f32), the decoder alone (bare `N.*` keys, or `decoder.N.*`)
WEIGHT_FORMS = {'whole': '.pth', 'decoder': '_decoder.pth', 'prefixed': '_decoder_keys.pth', 'safetensors': '.safetensors', 'safetensors-f32': '_f32.safetensors'}
BACKENDS = [('webgpu', 'f32'), ('webgpu', 'f16'), ('native', None), ('wasm', None)]
TOL_F32, TOL_F16 = 2e-3, 3 / 255
SHAPES = [(1, 1), (1, 2), (3, 5), (7, 4), (2, 3), (5, 3), (9, 6), (4, 7)]
_models = {}  # upstream models by (id, space skips, time skips)


def load_upstream(path):
    sys.modules.setdefault('tqdm', types.ModuleType('tqdm'))
    auto = types.ModuleType('tqdm.auto')  # upstream imports tqdm for progress bars only
    auto.tqdm = lambda it=None, **kw: it if it is not None else types.SimpleNamespace(update=lambda n: None, close=lambda: None)
    sys.modules['tqdm.auto'] = auto
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    return __import__(os.path.splitext(os.path.basename(path))[0])


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> torch tensor (f32, f16 or bf16), written as safetensors does."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {'dtype': {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16'}[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header['__metadata__'] = metadata
    head = json.dumps(header).encode()
    head += b' ' * (-len(head) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(head)) + head + b''.join(blobs))


def read_safetensors(path):
    """name -> torch tensor (F32, F16 or BF16)."""
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    out = {}
    for name, v in json.loads(b[8:8 + n]).items():
        if name == '__metadata__':
            continue
        s, e = v['data_offsets']
        raw = np.frombuffer(b[8 + n + s:8 + n + e], dtype={'F32': np.float32, 'F16': np.float16, 'BF16': np.int16}[v['dtype']]).copy()
        t = torch.from_numpy(raw)
        out[name] = (t.view(torch.bfloat16) if v['dtype'] == 'BF16' else t).reshape(v['shape'])
    return out


def make_weights(up, model_id, work):
    """Writes the weights in each of WEIGHT_FORMS; returns their paths by form, and the latent channels."""
    src, keep = MODELS[model_id]
    sd = torch.load(os.path.join(SHARED, 'models', 'test', f'{src}_randw.pth'), map_location='cpu', weights_only=True)
    dec = {k: v for k, v in sd.items() if k.startswith('decoder.')}
    if keep:
        dec['decoder.0.weight'] = dec['decoder.0.weight'][:, :keep].contiguous()
    channels = dec['decoder.0.weight' if 'decoder.0.weight' in dec else 'decoder.1.weight'].shape[1]
    patch = round((dec['decoder.22.bias'].shape[0] / 3) ** 0.5)
    time_down = (True, True, True) if 'taeltx' in model_id else (True, True, False)
    shell = up.TAEHV(checkpoint_path=None, patch_size=patch, latent_channels=channels, encoder_time_downscale=time_down)
    enc = {k: torch.zeros_like(v, dtype=torch.float16) for k, v in shell.state_dict().items() if k.startswith('encoder.')}
    d = os.path.join(work, 'weights', model_id)
    os.makedirs(d, exist_ok=True)
    w = {'channels': channels, **{form: os.path.join(d, f'{model_id}{suffix}') for form, suffix in WEIGHT_FORMS.items()}}
    torch.save({**enc, **dec}, w['whole'])
    torch.save({k[len('decoder.'):]: v for k, v in dec.items()}, w['decoder'])
    torch.save(dec, w['prefixed'])
    write_safetensors(w['safetensors'], {**enc, **dec})
    write_safetensors(w['safetensors-f32'], {k: v.float() for k, v in {**enc, **dec}.items()})
    return w


def upstream_model(up, w, model_id, skip_space, skip_time):
    """Upstream's TAEHV loaded from the file named for model_id, float32, with the last space upsamples and time upscales off."""
    key = (model_id, skip_space, skip_time)
    if key not in _models:
        m = up.TAEHV(checkpoint_path=w['whole']).float().eval()
        ups = [i for i, layer in enumerate(m.decoder) if isinstance(layer, nn.Upsample)]
        for i in ups[len(ups) - skip_space:]:
            m.decoder[i] = nn.Identity()
        # patch_tgrow_layers' rule (keep the last-timestep rows), applied after loading: the constructor forces LTX's time upscales on.
        grows = [layer for layer in m.decoder if isinstance(layer, up.TGrow) and layer.stride == 2]
        for g in grows[len(grows) - skip_time:]:
            g.stride = 1
            g.conv.weight = nn.Parameter(g.conv.weight[-g.conv.weight.shape[1]:].clone())
        m.t_upscale = 2 ** sum(isinstance(layer, up.TGrow) and layer.stride == 2 for layer in m.decoder)
        m.frames_to_trim = m.t_upscale - 1
        _models[key] = m
    return _models[key]


def sample_cases(n, seed):
    """Balanced random cases (each option's values about equally often), cheapest first."""
    rng = random.Random(seed)

    def column(values):
        col = [values[i % len(values)] for i in range(n)]
        rng.shuffle(col)
        return col

    cols = {
        'model': column(list(MODELS)), 'T': column([1, 2, 3, 4, 5, 6, 7, 11]), 'hw': column(SHAPES),
        'scale': column([0, 0, 1, 2, 3]), 'time': column([0, 0, 1, 2]), 'chunk': column([None, 1, 2, 3]),
        'backend': column(BACKENDS), 'dtype': column(['f32', 'f16', 'bf16']), 'rank': column([5, 4]),
        'weights': column([*WEIGHT_FORMS, 'by-name']), 'source': column(['random', 'random', 'wan']),
        'file': column(['safetensors', 'safetensors', 'pth']),
    }
    cases = []
    for i in range(n):
        c = {k: v[i] for k, v in cols.items()}
        if 'super' in c['model']:
            c['scale'] = 0  # the super decoders upscale by pixel shuffles: no space skips
        if 'taeltx' in c['model'] and c['time'] == 2 and i % 2:
            c['time'] = 3  # LTX-2 has three time upscales
        if c['source'] == 'wan' and MODELS[c['model']][0] != 'taew2_1':
            c['source'] = 'random'
        if c['source'] == 'wan':
            c['T'] = min(c['T'], 5)  # the example's latent frames
        c['seed'] = 1000 + i
        cases.append(c)
    cost = lambda c: c['T'] * c['hw'][0] * c['hw'][1] * (8 if 'ltx' in c['model'] else 1) * (2 if c['backend'][0] == 'webgpu' else 1) / 2 ** c['scale']
    return sorted(cases, key=cost)

# The whole real Wan latent (examples/wan.safetensors, bf16 [1,16,5,40,64]) on each backend, last.
BIG = [{'model': 'taew2_1', 'T': 5, 'hw': (40, 64), 'scale': 0, 'time': 0, 'chunk': chunk, 'backend': b, 'dtype': 'bf16', 'rank': 5,
        'weights': 'whole', 'source': 'wan', 'file': 'safetensors', 'seed': 0} for b, chunk in [(('native', None), None), (('wasm', None), 2), (('webgpu', 'f32'), None), (('webgpu', 'f16'), 3)]]


def make_latent(c, channels, wan):
    g = torch.Generator().manual_seed(c['seed'])
    h, w = c['hw']
    if c['source'] == 'wan':  # a crop of the real Wan 2.1 latent
        y = int(torch.randint(0, wan.shape[3] - h + 1, (1,), generator=g))
        x = int(torch.randint(0, wan.shape[4] - w + 1, (1,), generator=g))
        z = wan[:, :, :c['T'], y:y + h, x:x + w].float()
    else:
        z = torch.randn(1, channels, c['T'], h, w, generator=g) * 1.5
    z = z.to({'f32': torch.float32, 'f16': torch.float16, 'bf16': torch.bfloat16}[c['dtype']]).contiguous()
    return z if c['rank'] == 5 else z[0]


def cli_args(c, latent_path, weights_path, out_path):
    backend, precision = c['backend']
    args = [latent_path, '--weights', weights_path, '--backend', backend, '--out', out_path]
    if c['weights'] != 'by-name':
        args += ['--model', c['model']]
    if precision:
        args += ['--precision', precision]
    if c['scale']:
        args += ['--scale', str(0.5 ** c['scale'])]
    if c['time']:
        args += ['--time-scale', str(0.5 ** c['time'])]
    if c['chunk']:
        args += ['--chunk', str(c['chunk'])]
    return args


def run_case(up, w, wan, c, work):
    """(max |diff| or None, failure or None, command)."""
    z = make_latent(c, w['channels'], wan)
    latent_path, out_path = os.path.join(work, f'latent.{c["file"]}'), os.path.join(work, 'out.safetensors')
    if c['file'] == 'pth':  # torch.save of the tensor itself, an NCTHW view of NTCHW (upstream's order) storage
        torch.save(z.transpose(-4, -3).contiguous().transpose(-4, -3), latent_path)
    else:
        write_safetensors(latent_path, {'latent': z})
    if os.path.exists(out_path):
        os.remove(out_path)
    args = cli_args(c, latent_path, w['whole' if c['weights'] == 'by-name' else c['weights']], out_path)
    command = ' '.join(['node bin/taesd-web.js decode'] + args)
    r = subprocess.run(CLI + args, capture_output=True, text=True, timeout=600)
    ref = upstream_model(up, w, c['model'], c['scale'], c['time'])
    with torch.no_grad():
        want = ref.decode_video((z.float() if c['rank'] == 5 else z.float()[None]).permute(0, 2, 1, 3, 4), parallel=True, show_progress_bar=False)[0]
    if r.returncode != 0:
        return None, f'exit {r.returncode}: {(r.stderr.strip().splitlines() or [""])[-1]}', command
    got = read_safetensors(out_path)['image']
    if got.shape != want.shape:
        return None, f'frames {list(got.shape)}, upstream {list(want.shape)}', command
    diff = float((got - want).abs().max())
    tol = TOL_F16 if c['backend'][1] == 'f16' else TOL_F32
    return diff, (None if diff <= tol else f'max |diff| {diff:.3g} > {tol:.3g}'), command



def bad_inputs(w, work):
    """(what, CLI args, error code the one error line must name): inputs the CLI must refuse."""
    def latent(name, z):
        path = os.path.join(work, name)
        write_safetensors(path, {'latent': z})
        return path

    def weights(name, drop=(), poison=None):
        sd = torch.load(w['taew2_1']['whole'], weights_only=True)
        sd = {k: v for k, v in sd.items() if k not in drop}
        if poison:
            sd[poison] = torch.full_like(sd[poison], float('inf'))
        path = os.path.join(work, name)
        torch.save(sd, path)
        return path

    def truncated(name, src, keep):
        path = os.path.join(work, name)
        data = open(src, 'rb').read()
        open(path, 'wb').write(data[:int(len(data) * keep)])
        return path

    z = torch.randn(1, 16, 3, 3, 5)
    good, wpth = latent('good.safetensors', z), w['taew2_1']['whole']
    nan = z.clone()
    nan[0, 4, 1, 2, 3] = float('nan')
    inf16 = z.half()
    inf16[0, 0, 2, 0, 0] = float('inf')
    big = torch.randn(1, 16, 2, 40, 64)
    return [
        ('channels fit no model', [latent('c20.safetensors', torch.randn(1, 20, 2, 3, 3)), '--model', 'taew2_1', '--weights', wpth], 'LATENT_CHANNELS'),
        ('T = 0', [latent('t0.safetensors', torch.randn(1, 16, 0, 3, 3)), '--model', 'taew2_1', '--weights', wpth], 'LATENT_SHAPE'),
        ('4-D [T,C,h,w]', [latent('tchw.safetensors', torch.randn(3, 16, 3, 3)), '--model', 'taew2_1', '--weights', wpth], 'LATENT_SHAPE'),
        ('4-D with T = C', [latent('cc.safetensors', torch.randn(16, 16, 2, 2)), '--model', 'taew2_1', '--weights', wpth], 'LATENT_SHAPE'),
        ('5-D NTCHW (upstream order)', [latent('ntchw.safetensors', torch.randn(1, 3, 16, 3, 3)), '--model', 'taew2_1', '--weights', wpth], 'LATENT_CHANNELS'),
        ('3-D image latent', [latent('chw.safetensors', torch.randn(16, 3, 3)), '--model', 'taew2_1', '--weights', wpth], 'LATENT_SHAPE'),
        ('batch of 2', [latent('b2.safetensors', torch.randn(2, 16, 2, 3, 3)), '--model', 'taew2_1', '--weights', wpth], 'LATENT_SHAPE'),
        ('NaN latent (f32)', [latent('nan.safetensors', nan), '--model', 'taew2_1', '--weights', wpth], 'LATENT_NON_FINITE'),
        ('Inf latent (f16)', [latent('inf.safetensors', inf16), '--model', 'taew2_1', '--weights', wpth], 'LATENT_NON_FINITE'),
        ('NaN latent (bf16)', [latent('nanbf.safetensors', nan.bfloat16()), '--model', 'taew2_1', '--weights', wpth], 'LATENT_NON_FINITE'),
        ('truncated latent', [truncated('trunc.safetensors', good, 0.6), '--model', 'taew2_1', '--weights', wpth], 'LATENT_CORRUPT'),
        ('truncated .pth weights', [good, '--model', 'taew2_1', '--weights', truncated('trunc.pth', wpth, 0.6)], 'WEIGHTS_CORRUPT'),
        ('truncated .safetensors weights', [good, '--model', 'taew2_1', '--weights', truncated('trunc_w.safetensors', w['taew2_1']['safetensors'], 0.6)], 'WEIGHTS_CORRUPT'),
        ('missing decoder tensor', [good, '--model', 'taew2_1', '--weights', weights('missing.pth', drop=('decoder.10.conv.2.weight',))], 'WEIGHTS_MISSING_TENSOR'),
        ('encoder only', [good, '--model', 'taew2_1', '--weights', weights('enc.pth', drop=[k for k in torch.load(wpth, weights_only=True) if k.startswith('decoder.')])], 'WEIGHTS_MISSING_TENSOR'),
        ('Inf weight', [good, '--model', 'taew2_1', '--weights', weights('infw.pth', poison='decoder.4.conv.0.weight')], 'WEIGHTS_CORRUPT'),
        ('unnamed TAEHV weights, no --model', [good, '--weights', truncated('mystery.pth', wpth, 1)], 'MODEL_MISMATCH'),
        ('weights of another model', [good, '--model', 'taew2_1', '--weights', w['taew2_2']['whole']], 'MODEL_MISMATCH'),
        ('--chunk cannot fit', [latent('big.safetensors', big), '--model', 'taew2_1', '--weights', wpth, '--chunk', '100000'], 'BAD_OPTION'),
        ('--chunk 0', [good, '--model', 'taew2_1', '--weights', wpth, '--chunk', '0'], 'usage'),
        ('--scale 1/2, super', [latent('s48.safetensors', torch.randn(1, 48, 2, 2, 2)), '--model', 'taew2_2_super', '--weights', w['taew2_2_super']['whole'], '--scale', '0.5'], 'BAD_OPTION'),
        ('--time-scale 1/8, Wan', [good, '--model', 'taew2_1', '--weights', wpth, '--time-scale', '0.125'], 'BAD_OPTION'),
        ('--precision with native', [good, '--model', 'taew2_1', '--weights', wpth, '--backend', 'native', '--precision', 'f16'], 'usage'),
    ]


def check_bad(what, args, code, work):
    """None if the CLI refused as it should, else what went wrong."""
    out_dir = os.path.join(work, 'bad-out')
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    started = time.time()
    r = subprocess.run(CLI + args + ['--out', os.path.join(out_dir, 'x.safetensors')], capture_output=True, text=True, timeout=120)
    took = time.time() - started
    lines = r.stderr.strip().splitlines()
    errors = [line for line in lines if 'error' in line or code == 'usage' and line.startswith('taesd-web:')]
    problems = []
    if r.returncode in (0, None) or r.returncode > 2:
        problems.append(f'exit {r.returncode}')
    if any(line.lstrip().startswith('at ') for line in lines):
        problems.append('stack trace')
    if len(errors) != 1:
        problems.append(f'{len(errors)} error lines')
    if code == 'usage' and r.returncode != 2 or code != 'usage' and not any(f'[{code}]' in line for line in errors):
        problems.append(f'not {code}')
    if os.listdir(out_dir):
        problems.append(f'left {os.listdir(out_dir)}')
    if took > 15:
        problems.append(f'took {took:.0f} s')
    return None if not problems else f'{"; ".join(problems)}: {lines[-1] if lines else "(no stderr)"}'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cases', type=int, default=300)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--taehv', default='/tmp/taehv.py', help="upstream's taehv.py")
    ap.add_argument('--work', default='/tmp/heldout_sweep')
    ap.add_argument('--bad-only', action='store_true')
    ap.add_argument('--no-bad', action='store_true')
    ap.add_argument('--no-big', action='store_true', help='skip the whole real Wan latent (17 frames of 320x512; minutes on lavapipe)')
    a = ap.parse_args()
    torch.set_num_threads(1)
    up = load_upstream(a.taehv)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    weights = {m: make_weights(up, m, a.work) for m in MODELS}
    wan = read_safetensors(os.path.join(ROOT, 'examples', 'wan.safetensors'))['latent']
    started, failures, diffs, counts = time.time(), [], {}, {}
    cases = [] if a.bad_only else sample_cases(a.cases, a.seed) + ([] if a.no_big else BIG)
    for i, c in enumerate(cases):
        diff, failure, command = run_case(up, weights[c['model']], wan, c, a.work)
        backend = '/'.join(filter(None, c['backend']))
        for key in [(k, backend if k == 'backend' else v) for k, v in c.items() if k not in ('seed', 'hw')]:
            counts[key] = counts.get(key, 0) + 1
        if diff is not None:
            diffs[backend] = max(diffs.get(backend, 0), diff)
        if failure:
            failures.append(f'{c["model"]} T={c["T"]} {c["hw"][0]}x{c["hw"][1]} {backend}: {failure}\n    {command}')
            print('FAIL', failures[-1], flush=True)
        elif i % 25 == 0:
            print(f'{i} cases, {time.time() - started:.0f} s', flush=True)
    for what, args, code in [] if a.no_bad else bad_inputs(weights, a.work):
        failure = check_bad(what, args, code, a.work)
        counts[('bad input', 'all')] = counts.get(('bad input', 'all'), 0) + 1
        if failure:
            failures.append(f'bad input, {what}: {failure}\n    node bin/taesd-web.js decode {" ".join(args)} --out x.safetensors')
            print('FAIL', failures[-1], flush=True)
    print('\ncases by option:')
    for option in sorted({k for k, _ in counts}):
        print(f'  {option}: ' + ', '.join(f'{v}={n}' for (k, v), n in sorted(counts.items(), key=lambda kv: str(kv[0][1])) if k == option))
    print('largest |diff| per backend: ' + ', '.join(f'{b} {d:.2g}' for b, d in sorted(diffs.items())))
    print(f'{len(failures)} failures in {time.time() - started:.0f} s')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
