#!/usr/bin/env python3
"""Checks that digitnet's model files load in PyTorch: runs
`test_model --export DIR`, loads DIR/cnn.safetensors and DIR/mlp.safetensors
into the seed's PyTorch modules with load_state_dict(strict=True), and
compares their logits with digitnet's. Exits 77 (skipped) without PyTorch.

usage: check_interop.py PATH_TO_test_model
"""
import os
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print("PyTorch is not installed (apt-get install python3-torch): skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_models import CNN, MLP, load_safetensors  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.argv[1], "--export", out], check=True)
        x = torch.tensor([float(v) for v in open(os.path.join(out, "input.txt"))]).reshape(3, 1, 28, 28)
        failed = 0
        for kind, cls in (("cnn", CNN), ("mlp", MLP)):
            tensors, metadata = load_safetensors(os.path.join(out, kind + ".safetensors"))
            model = cls()
            model.load_state_dict(tensors, strict=True)
            with torch.no_grad():
                logits = model(x).reshape(-1)
            want = torch.tensor([float(v) for v in open(os.path.join(out, kind + ".logits.txt"))])
            err = (logits - want).abs().max().item()
            ok = err <= 1e-4 and "arch" in metadata
            failed += not ok
            print("%s: loaded in PyTorch, arch %r, max logit difference %.3g %s"
                  % (kind, metadata.get("arch"), err, "ok" if ok else "FAIL"))
        print("%d passed, %d failed" % (2 - failed, failed))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
