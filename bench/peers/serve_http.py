"""The peer of the serving benches: what a user would otherwise write to serve a PyTorch model —
torch behind Python's http.server.ThreadingHTTPServer (a thread per connection), the image decoded
with PIL and prepared with torchvision's transforms, one forward pass per request (no batching).

    /usr/bin/python3 bench/peers/serve_http.py --model resnet18 --weights w.pt --channels 3 \\
        --size 64 --mean 0.49,0.48,0.45 --std 0.25,0.24,0.26 --threads 2 --port 0

POST /classify  body: image bytes            → {"top": [{"index", "probability"}, ...]} (top 5)
POST /logits    body: float32 (1, C, H, W)   → {"logits": [...]}  (the bench's numerics check)
Prints "listening on http://127.0.0.1:PORT" on stderr when ready.
"""
import argparse
import io
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
import torch.nn as nn
import torchvision
from PIL import Image
from torchvision import transforms


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class Residual(nn.Sequential):
    def __init__(self, c):
        super().__init__(nn.Sequential(*conv_bn_relu(c, c)), nn.Sequential(*conv_bn_relu(c, c)))

    def forward(self, x):
        return x + super().forward(x)


class FashionNet(nn.Module):
    """src/models/fashion-net.ts, with its state-dict keys."""

    def __init__(self, in_channels=1, classes=10, widths=(32, 64, 128)):
        super().__init__()
        w0, w1, w2 = widths
        self.stem = nn.Sequential(*conv_bn_relu(in_channels, w0))
        self.stage1 = nn.Sequential(nn.MaxPool2d(2), *conv_bn_relu(w0, w1), Residual(w1))
        self.stage2 = nn.Sequential(nn.MaxPool2d(2), *conv_bn_relu(w1, w2), Residual(w2))
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(w2, classes))

    def forward(self, x):
        h = self.stage2(self.stage1(self.stem(x)))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(h, 1), 1))


def build(name, channels, classes):
    if name == "fashion-net":
        return FashionNet(channels, classes)
    if name == "resnet18":
        # Tessera's resnet18 at <= 64 px: torchvision's, with the small-image stem.
        m = torchvision.models.resnet18(num_classes=classes)
        m.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
        m.maxpool = nn.Identity()
        return m
    raise SystemExit(f"serve_http.py: no peer model for {name!r}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--channels", type=int, required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--mean", required=True)
    p.add_argument("--std", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = build(a.model, a.channels, a.classes)
    model.load_state_dict(torch.load(a.weights, weights_only=True))
    model.eval()
    prepare = transforms.Compose([
        transforms.Resize((a.size, a.size)),
        transforms.ToTensor(),
        transforms.Normalize([float(x) for x in a.mean.split(",")], [float(x) for x in a.std.split(",")]),
    ])
    mode = "L" if a.channels == 1 else "RGB"
    shape = (1, a.channels, a.size, a.size)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the load generator expects
        # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for the
        # client's delayed ACK (~40 ms a request). A careful user turns it off, so the peer does.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def answer(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                if self.path.startswith("/classify"):
                    x = prepare(Image.open(io.BytesIO(data)).convert(mode)).unsqueeze(0)
                    with torch.no_grad():
                        prob = torch.softmax(model(x), 1)[0]
                    v, i = prob.topk(5)
                    self.answer(200, {"top": [{"index": int(k), "probability": float(q)} for q, k in zip(v, i)]})
                elif self.path.startswith("/logits"):
                    x = torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(shape)
                    with torch.no_grad():
                        self.answer(200, {"logits": model(x)[0].tolist()})
                else:
                    self.answer(404, {"error": "no route"})
            except Exception as e:  # noqa: BLE001 - a bad image is the client's problem
                self.answer(400, {"error": str(e)})

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
