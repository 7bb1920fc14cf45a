"""Python mirror of core/models/classifier.h / classifier.cpp: ll::Classifier, the clean
classifier (a two-stage CNN for images, an MLP for tabular rows), and its cross-entropy step.

The layers are built in the order the C++ constructs them (body, dropout, head; inside body the
order GCC evaluates nn::Sequential's arguments in: right to left), so that the same
torch.manual_seed gives the same initial weights; dropout draws its mask from torch's global
generator in training mode, as the C++ does.
"""

import torch
from torch import nn

import common


class ClassifierNet(nn.Module):
    """ll::ClassifierNet: `body` (the features), dropout, then the `head` Linear."""

    def __init__(self, shape, width, features, dropout):
        super().__init__()
        self.tabular = shape.tabular
        # The C++ builds `body` as nn::Sequential(a, b, c, ...), one call whose arguments GCC
        # (the build's compiler) constructs right to left: the last Linear draws its initial
        # weights first. The layers are made here in that order and then put in place.
        if self.tabular:
            second = nn.Linear(features, features)
            first = nn.Linear(shape.features, features)
            self.body = nn.Sequential(first, nn.ReLU(), second, nn.ReLU())
        else:
            # Two conv-BN-ReLU-pool stages (H/4 x W/4 left), then a dense layer: the features.
            flat = 2 * width * (shape.height // 4) * (shape.width // 4)
            dense = nn.Linear(flat, features)
            conv2 = nn.Conv2d(width, 2 * width, 3, padding=1, bias=False)
            conv1 = nn.Conv2d(shape.channels, width, 3, padding=1, bias=False)
            self.body = nn.Sequential(
                conv1, nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
                conv2, nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                dense, nn.ReLU())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(features, shape.num_classes)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.dropout(self.features(x)))


class Classifier:
    """ll::Classifier: train mode, the logits, then ll::classifierStep (cross-entropy, dropped
    gradients, Adam with LibTorch's defaults, loss and accuracy read with .item())."""

    def __init__(self, shape, settings, lr):
        width = common.whole(settings, "width")
        features = common.whole(settings, "features")
        dropout = common.number(settings, "dropout")
        if width < 1 or width > 1024:
            raise ValueError("setting 'width' must lie in 1..1024")
        if features < 2 or features > 8192:
            raise ValueError("setting 'features' must lie in 2..8192")
        if not (0 <= dropout < 1):
            raise ValueError("setting 'dropout' must lie in [0, 1)")
        if not shape.tabular and (shape.height < 4 or shape.width < 4):
            raise ValueError("images must be at least 4x4 pixels")
        self.net = ClassifierNet(shape, width, features, dropout)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)

    def modules(self):
        return [self.net]

    def train_step(self, x, y):
        self.net.train()
        return common.classifier_step(self.net, self.optimizer, self.net(x), y)

    def classify(self, x):
        with torch.no_grad():
            self.net.eval()
            return self.net(x)


def build(name, shape, settings, lr):
    if name != "classifier":
        raise ValueError(f"not the classifier: {name}")
    return Classifier(shape, settings, lr)
