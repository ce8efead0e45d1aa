#!/usr/bin/env python3
"""A model trained by PyTorch, for examples/run_torch_model.c: the network of
that example's comment (conv1 16 5x5, max-pool, fc1 64, fc2 10), trained for
one epoch on the first 6000 MNIST training images, saved as safetensors with
its architecture in the metadata as the example says. Writes OUT/torch.safetensors
and OUT/torch-expected.txt: PyTorch's own predictions for the first SHOW test
images and its accuracy on the whole test set, which the example must
reproduce. Exits 77 (skipped) without PyTorch.

usage: make_torch_model.py MNIST_DIR OUT_DIR SHOW
"""
import os
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("PyTorch is not installed (apt-get install python3-torch)")
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "torch"))
from make_inputs import read_idx  # noqa: E402
from seed_models import save_safetensors  # noqa: E402

ARCH = "input 1x28x28; conv 16 5; relu; maxpool 2; flatten; linear 64; relu; linear 10"
MEAN, STD = 0.1307, 0.3081


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)
        self.fc1 = nn.Linear(16 * 12 * 12, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def load(mnist, kind):
    (n, h, w), pixels = read_idx(os.path.join(mnist, kind + "-images-idx3-ubyte"))
    _, labels = read_idx(os.path.join(mnist, kind + "-labels-idx1-ubyte"))
    x = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(n, 1, h, w).float() / 255
    return (x - MEAN) / STD, torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()


def main():
    mnist, out, show = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.manual_seed(3)
    torch.set_num_threads(1)
    x, y = load(mnist, "train")
    x, y = x[:6000], y[:6000]
    net = Net()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    for i in range(0, len(x), 64):
        loss = F.cross_entropy(net(x[i:i + 64]), y[i:i + 64])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    test_x, test_y = load(mnist, "t10k")
    with torch.no_grad():
        predicted = net(test_x).argmax(1)
    accuracy = (predicted == test_y).float().mean().item()
    save_safetensors(net.state_dict(), os.path.join(out, "torch.safetensors"),
                     {"arch": ARCH, "input_mean": str(MEAN), "input_std": str(STD)})
    with open(os.path.join(out, "torch-expected.txt"), "w") as f:
        f.write("first %d predicted: %s\n" % (show, " ".join(str(v) for v in predicted[:show].tolist())))
        f.write("accuracy %.4f\n" % (100 * accuracy))
    print("PyTorch: test accuracy %.2f%%" % (100 * accuracy))


if __name__ == "__main__":
    main()
