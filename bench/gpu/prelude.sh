# Sourced first by each bench/gpu/*.sh on the GPU machine (from the project root, .gl and .device
# carried): unpacks the kit, puts the newer dist/ (.gl/distnew.tar.xz) over the kit's, and makes
# random taew2_1 weights with upstream's taehv.py (.gl/taehv.py): 22 MB of them would not fit the carry.
set -u
cp models/taef2_decoder.pth .device/data/
source .device/device-env.sh
rm -rf dist && tar -xJf .gl/distnew.tar.xz
python3 - <<'PY'
import importlib.util, sys, types, torch
sys.modules["tqdm"] = types.ModuleType("tqdm"); m = types.ModuleType("tqdm.auto"); m.tqdm = lambda it=None, *a, **k: it; sys.modules["tqdm.auto"] = m
spec = importlib.util.spec_from_file_location("taehv", ".gl/taehv.py"); t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)
torch.manual_seed(0); torch.save(t.TAEHV(checkpoint_path=None).state_dict(), "/tmp/taew2_1_randw.pth")
PY
