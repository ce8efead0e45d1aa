#!/usr/bin/env python3
"""Checks that digitnet's model files load in PyTorch and PyTorch's in
digitnet: runs `test_model --export DIR`, loads DIR/cnn.safetensors,
DIR/mlp.safetensors and DIR/bn.safetensors (batchnorm, trained a few steps)
into PyTorch modules with load_state_dict(strict=True) and compares their
logits with digitnet's; then saves a PyTorch net with batchnorm (running
statistics moved by training, num_batches_tracked an int64 as PyTorch keeps
it) and has `test_model --logits` compute its logits. Exits 77 (skipped)
without PyTorch.

usage: check_interop.py PATH_TO_test_model
"""
import os
import subprocess
import sys
import tempfile

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("PyTorch is not installed (apt-get install python3-torch): skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_models import BN_SPEC, CNN, MLP, BNNet, load_safetensors, save_safetensors  # noqa: E402


def torch_model_in_digitnet(test_model, out, x):
    """A BNNet trained for a few steps in PyTorch, run by digitnet."""
    torch.manual_seed(7)
    model = BNNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(4):
        batch = torch.randn(16, 1, 28, 28) + 0.5
        loss = F.cross_entropy(model(batch), torch.randint(0, 10, (16,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    path = os.path.join(out, "torch-bn.safetensors")
    save_safetensors(model.state_dict(), path, {"arch": BN_SPEC})
    with torch.no_grad():
        want = model(x).reshape(-1)
    done = subprocess.run([test_model, "--logits", path, os.path.join(out, "input.txt")], check=True,
                          capture_output=True, text=True)
    got = torch.tensor([float(v) for v in done.stdout.split()])
    err = (got - want).abs().max().item() if got.numel() == want.numel() else float("inf")
    print("PyTorch's batchnorm net in digitnet: max logit difference %.3g %s" % (err, "ok" if err <= 1e-4 else "FAIL"))
    return err <= 1e-4


def main():
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.argv[1], "--export", out], check=True)
        x = torch.tensor([float(v) for v in open(os.path.join(out, "input.txt"))]).reshape(3, 1, 28, 28)
        failed = 0
        for kind, cls in (("cnn", CNN), ("mlp", MLP), ("bn", BNNet)):
            tensors, metadata = load_safetensors(os.path.join(out, kind + ".safetensors"))
            model = cls()
            model.load_state_dict(tensors, strict=True)
            model.eval()
            with torch.no_grad():
                logits = model(x).reshape(-1)
            want = torch.tensor([float(v) for v in open(os.path.join(out, kind + ".logits.txt"))])
            err = (logits - want).abs().max().item()
            ok = err <= 1e-4 and "arch" in metadata
            failed += not ok
            print("%s: loaded in PyTorch, arch %r, max logit difference %.3g %s"
                  % (kind, metadata.get("arch"), err, "ok" if ok else "FAIL"))
        failed += not torch_model_in_digitnet(sys.argv[1], out, x)
        print("%d passed, %d failed" % (4 - failed, failed))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
