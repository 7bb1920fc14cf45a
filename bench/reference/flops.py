"""Floating-point operations of a training step, counted op by op as PyTorch dispatches them.

Counts the multiply-adds of matrix products and convolutions, forward and backward (2 FLOPs
each), the work that decides a step's speed; elementwise ops, reductions and the optimiser's
update are left out (a few per cent of a step's FLOPs in this zoo). The mirrors build the
C++ models op for op, so the count holds for both sides.
"""

import math

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def _matmul_flops(a, b):
    return 2 * math.prod(a.shape[:-1]) * a.shape[-1] * b.shape[-1]


def _conv_flops(x, w, out, transposed):
    """A convolution's multiply-adds x 2. Every output element takes in_channels / groups x
    kernel products; transposed, every input element feeds out_channels / groups x kernel."""
    kernel = math.prod(w.shape[2:])
    if transposed:  # w: in x out/groups x kernel
        return 2 * math.prod(x.shape) * w.shape[1] * kernel
    return 2 * math.prod(out.shape) * w.shape[1] * kernel  # w: out x in/groups x kernel


class FlopCounter(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        packet = func.overloadpacket
        if packet in (aten.mm, aten.matmul):
            self.flops += _matmul_flops(args[0], args[1])
        elif packet == aten.addmm:
            self.flops += _matmul_flops(args[1], args[2])
        elif packet == aten.bmm:
            self.flops += 2 * args[0].shape[0] * args[0].shape[1] * args[0].shape[2] * \
                args[1].shape[2]
        elif packet == aten.convolution:
            x, w = args[0], args[1]
            self.flops += _conv_flops(x, w, out, args[6])
        elif packet == aten.convolution_backward:
            # (grad_out, input, weight, bias_sizes, stride, padding, dilation, transposed,
            #  output_padding, groups, output_mask): the input and weight gradients each cost
            # what the forward convolution did.
            grad_out, x, w = args[0], args[1], args[2]
            transposed, mask = args[7], args[10]
            forward = _conv_flops(x, w, grad_out, transposed)
            self.flops += forward * (int(mask[0]) + int(mask[1]))
        return out


def step_flops(model, batches):
    """FLOPs of the model's next training step."""
    with FlopCounter() as counter:
        model.train_step(*batches.next())
    return counter.flops
