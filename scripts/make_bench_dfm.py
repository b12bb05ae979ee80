#!/usr/bin/env python3
"""make_bench_dfm.py OUT.onnx [WIDTH] — a DeepFaceLive .dfm-shaped network at
a real model's widths, with made-up weights, for `make bench` (issue 10: how
close ptim runs a swap network to XNNPACK's best case). Not a test fixture:
the committed fixtures (tests/fixtures/onnx) are 8-16 channels wide so they
stay small, and at such widths every convolution library is far below its
best case; a user's .dfm is 64-512 channels wide and 200-400 MB.

The layout follows DeepFaceLab's SAEHD "df-ud" network at 224x224 as
DeepFaceLive exports it: NHWC in and out (transposes at the edges), an
encoder of four 5x5 stride-2 convolutions with LeakyReLU 0.1, a dense
bottleneck (MatMul), a decoder of 3x3 convolutions with depth-to-space
(DCR) upscales and residual blocks, a mask decoder beside it, four 3x3
output heads joined by a depth-to-space to 224x224 and Sigmoid heads.
WIDTH is e_dims = d_dims (the default 32 is half of SAEHD's usual 64, so a
bench run stays short: about 14 GFLOP per call, 45 MB of weights).

Written with the standard library only: the ONNX protobuf is encoded here
(field numbers from onnx.proto), weights are a repeated block of uniform
values scaled by 1/sqrt(fan-in) so activations stay near 1 through the
depth (no denormals), which is all a timing needs.
"""
import math
import random
import struct
import sys


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def f_int(field, v):
    return key(field, 0) + varint(v & 0xFFFFFFFFFFFFFFFF)


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return key(field, 2) + varint(len(b)) + b


def f_float(field, v):
    return key(field, 5) + struct.pack("<f", v)


# AttributeProto: name 1, f 2, i 3, s 4, ints 8, type 20 (FLOAT 1, INT 2, STRING 3, INTS 7)
def attr_i(name, v):
    return f_bytes(1, name) + f_int(3, v) + f_int(20, 2)


def attr_f(name, v):
    return f_bytes(1, name) + f_float(2, v) + f_int(20, 1)


def attr_s(name, v):
    return f_bytes(1, name) + f_bytes(4, v) + f_int(20, 3)


def attr_ints(name, vs):
    return f_bytes(1, name) + b"".join(f_int(8, v) for v in vs) + f_int(20, 7)


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0
        self.rng = random.Random(7)
        self.block = [self.rng.uniform(-1.0, 1.0) for _ in range(4099)]

    def name(self, base):
        self.n += 1
        return "%s_%d" % (base, self.n)

    def node(self, op, inputs, attrs=(), out=None):
        out = out or self.name(op.lower())
        body = b"".join(f_bytes(1, i) for i in inputs) + f_bytes(2, out) + f_bytes(3, self.name("n")) + f_bytes(4, op)
        body += b"".join(f_bytes(5, a) for a in attrs)
        self.nodes.append(body)
        return out

    def weights(self, dims, scale):
        # TensorProto: dims 1, data_type 2 (FLOAT 1), name 8, raw_data 9
        count = math.prod(dims)
        blk = struct.pack("<%df" % len(self.block), *[v * scale for v in self.block])
        raw = (blk * (count // len(self.block) + 1))[: 4 * count]
        name = self.name("w")
        self.inits.append(b"".join(f_int(1, d) for d in dims) + f_int(2, 1) + f_bytes(8, name) + f_bytes(9, raw))
        return name

    def int64s(self, vals):
        name = self.name("shape")
        raw = struct.pack("<%dq" % len(vals), *vals)
        self.inits.append(f_int(1, len(vals)) + f_int(2, 7) + f_bytes(8, name) + f_bytes(9, raw))
        return name

    def conv(self, x, cin, cout, k, stride=1, act=0.1):
        w = self.weights([cout, cin, k, k], math.sqrt(3.0 / (cin * k * k)))
        b = self.weights([cout], 0.01)
        p = k // 2
        y = self.node("Conv", [x, w, b], [attr_ints("kernel_shape", [k, k]), attr_ints("strides", [stride, stride]),
                                          attr_ints("pads", [p, p, p, p])])
        return self.node("LeakyRelu", [y], [attr_f("alpha", act)]) if act else y

    def upscale(self, x, cin, cout):
        return self.node("DepthToSpace", [self.conv(x, cin, 4 * cout, 3)], [attr_i("blocksize", 2), attr_s("mode", "DCR")])

    def resblock(self, x, ch):
        y = self.conv(x, ch, ch, 3, act=0.2)
        y = self.conv(y, ch, ch, 3, act=0)
        return self.node("LeakyRelu", [self.node("Add", [y, x])], [attr_f("alpha", 0.2)])


def value_info(name, dims):
    shape = b"".join(f_bytes(1, f_int(1, d)) for d in dims)
    tensor_type = f_int(1, 1) + f_bytes(2, shape)
    return f_bytes(1, name) + f_bytes(2, f_bytes(1, tensor_type))


def build(width):
    res, e, d, m, ae = 224, width, width, max(width // 3, 8), 4 * width
    g = Graph()
    x = g.node("Transpose", ["in_face:0"], [attr_ints("perm", [0, 3, 1, 2])])
    ch = 3
    for k in range(4):  # encoder: 224 -> 14
        x = g.conv(x, ch, e << k, 5, 2)
        ch = e << k
    low = res // 32
    flat = g.node("Reshape", [x, g.int64s([1, ch * (res // 16) ** 2])])
    a = g.node("MatMul", [flat, g.weights([ch * (res // 16) ** 2, ae], math.sqrt(3.0 / (ch * (res // 16) ** 2)))])
    a = g.node("MatMul", [a, g.weights([ae, ae * low * low], math.sqrt(3.0 / ae))])
    x = g.node("Reshape", [a, g.int64s([1, ae, low, low])])
    x = g.upscale(x, ae, ae)  # 7 -> 14
    z, zc = x, ae
    for k, c in enumerate([d * 8, d * 4, d * 2]):  # decoder: 14 -> 112
        z = g.upscale(z, zc, c)
        z = g.resblock(z, c)
        zc = c
    heads = [g.conv(z, zc, 3, 3, act=0) for _ in range(4)]
    face = g.node("DepthToSpace", [g.node("Concat", heads, [attr_i("axis", 1)])],
                  [attr_i("blocksize", 2), attr_s("mode", "DCR")])
    face = g.node("Sigmoid", [face])
    y, yc = x, ae
    for c in [m * 8, m * 4, m * 2, m]:  # mask decoder: 14 -> 224
        y = g.upscale(y, yc, c)
        yc = c
    mask = g.node("Sigmoid", [g.conv(y, yc, 1, 1, act=0)])
    cmask = g.node("Sigmoid", [g.conv(y, yc, 1, 1, act=0)])
    nhwc = [attr_ints("perm", [0, 2, 3, 1])]
    g.node("Transpose", [mask], nhwc, out="out_face_mask:0")
    g.node("Transpose", [face], nhwc, out="out_celeb_face:0")
    g.node("Transpose", [cmask], nhwc, out="out_celeb_face_mask:0")
    graph = b"".join(f_bytes(1, n) for n in g.nodes) + f_bytes(2, "bench_dfm")
    graph += b"".join(f_bytes(5, t) for t in g.inits)
    graph += f_bytes(11, value_info("in_face:0", [1, res, res, 3]))
    graph += f_bytes(12, value_info("out_face_mask:0", [1, res, res, 1]))
    graph += f_bytes(12, value_info("out_celeb_face:0", [1, res, res, 3]))
    graph += f_bytes(12, value_info("out_celeb_face_mask:0", [1, res, res, 1]))
    opset = f_bytes(1, "") + f_int(2, 13)
    return f_int(1, 7) + f_bytes(2, "ptim make_bench_dfm.py") + f_bytes(7, graph) + f_bytes(8, opset)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make_bench_dfm.py OUT.onnx [WIDTH]")
    width = int(sys.argv[2]) if len(sys.argv) == 3 else 32
    with open(sys.argv[1], "wb") as fp:
        fp.write(build(width))
