"""A scripted stand-in for a tool-calling model server, speaking OpenAI chat completions on 127.0.0.1.

It prints its port on the first line of stdout, then serves until killed. Behaviours (--mode):
  crop       first turn: call `crop` on --box; next turn: find the red marker in the image the tool sent back and
             answer its position on the screenshot, computed from the box it asked for and the crop's size
  python     first turn: call `python` with code that finds the red marker in `image`; next turn: answer the
             position the code printed
  code       first turn: call `python` with the code in --code-file; next turn: answer --point
  loop       always call `crop` (never answers)
  answer     answer --point at once, or --answer-format with it (with --delay, --fail N first requests with HTTP 500,
             --garbage)
  centre     answer the centre of the image it was sent, in that image's pixels
  marker     answer where the red marker is, written with --answer-format ({x}, {y} its centre; {x1} {y1} {x2} {y2}
             its box) in --space (resized-abs: pixels of the image the model saw, 0-1000 or 0-1)
Answers use the Qwen2.5-VL computer-use tool-call text unless --answer-format says otherwise. Like a Qwen-VL server,
the stub first resizes each image with its own processor bounds (--server-min-pixels, --server-max-pixels,
--factor) and answers in the pixels of that; `usage.prompt_tokens` counts the text (about 4 characters a token) and
the images' tokens as such a server would. GET /stats returns the requests seen (images elided).
"""

import argparse
import base64
import io
import json
import math
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image

MARKER_CODE = (
    "import numpy as np\n"
    "a = np.asarray(image).astype(int)\n"
    "ys, xs = np.nonzero((a[..., 0] > 180) & (a[..., 1] < 90) & (a[..., 2] < 90))\n"
    "print(round(xs.mean() + 0.5, 2), round(ys.mean() + 0.5, 2))\n"
)


def server_size(width, height, factor, min_pixels, max_pixels):
    """The processor's smart_resize, written out here on purpose: the stub plays a foreign server, so it must not
    share the arithmetic of the client it tests."""
    h = round(height / factor) * factor
    w = round(width / factor) * factor
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h, w = (
            max(factor, math.floor(height / beta / factor) * factor),
            max(factor, math.floor(width / beta / factor) * factor),
        )
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    return w, h


def answer_text(x, y):
    arguments = {"action": "left_click", "coordinate": [round(x), round(y)]}
    return "<tool_call>\n" + json.dumps({"name": "computer_use", "arguments": arguments}) + "\n</tool_call>"


def marker_pixels(picture):
    a = np.asarray(picture.convert("RGB")).astype(int)
    return np.nonzero((a[..., 0] > 180) & (a[..., 1] < 90) & (a[..., 2] < 90))


def marker_centre(picture):
    ys, xs = marker_pixels(picture)
    if len(xs) == 0:
        return None
    return xs.mean() + 0.5, ys.mean() + 0.5


def marker_answer(picture, answer_format, space):
    """The marker's centre and box in the picture, written in `space` with `answer_format`."""
    ys, xs = marker_pixels(picture)
    if len(xs) == 0:
        return "I cannot see the marker."
    width, height = picture.size
    extent = {"resized-abs": (width, height), "0-1000": (1000, 1000), "0-1": (1, 1)}[space]

    def write(value, side, size):
        scaled = value * extent[side] / size
        return f"{scaled:.3f}" if space == "0-1" else str(round(scaled))

    xw = lambda v: write(v, 0, width)  # noqa: E731
    yw = lambda v: write(v, 1, height)  # noqa: E731
    return answer_format.format(
        x=xw(xs.mean() + 0.5),
        y=yw(ys.mean() + 0.5),
        x1=xw(xs.min()),
        y1=yw(ys.min()),
        x2=xw(xs.max() + 1),
        y2=yw(ys.max() + 1),
    )


def images_in(message):
    content = message.get("content")
    if not isinstance(content, list):
        return []
    found = []
    for part in content:
        if part.get("type") == "image_url":
            data = part["image_url"]["url"].split(",", 1)[1]
            found.append(Image.open(io.BytesIO(base64.b64decode(data))))
    return found


def elided_text(request):
    return re.sub(
        r"data:image/[^\"]+", "", json.dumps({"messages": request.get("messages"), "tools": request.get("tools")})
    )


def elide(messages):
    text = json.dumps(messages)
    return json.loads(re.sub(r"data:image/[^\"]+", "<image>", text))


class Stub:
    def __init__(self, args):
        self.args = args
        self.requests = []
        self.lock = threading.Lock()
        self.local = threading.local()  # the token count of the request this thread answers

    def seen(self, picture):
        """The picture as the model behind this server sees it: resized by the server's own processor."""
        size = server_size(*picture.size, self.args.factor, self.args.server_min_pixels, self.args.server_max_pixels)
        return picture.convert("RGB") if size == picture.size else picture.convert("RGB").resize(size)

    def reply(self, request):
        """(status, body bytes) for one chat request."""
        received = [picture for m in request.get("messages", []) for picture in images_in(m)]
        seen = [self.seen(picture) for picture in received]
        tokens = len(elided_text(request)) // 4 + sum(
            (p.width // self.args.factor) * (p.height // self.args.factor) for p in seen
        )
        self.local.prompt_tokens = tokens
        with self.lock:
            self.requests.append(
                {
                    "messages": elide(request.get("messages", [])),
                    "tools": [t["function"]["name"] for t in request.get("tools", [])],
                    "model": request.get("model"),
                    "authorization": request.get("_authorization"),
                    "sizes": [list(picture.size) for picture in received],
                    "prompt_tokens": tokens,
                }
            )
            count = len(self.requests)
        args = self.args
        if args.delay:
            time.sleep(args.delay)
        if count <= args.fail:
            return 500, json.dumps({"error": {"message": "stub failure", "type": "server_error"}}).encode()
        if args.garbage:
            return 200, b"<html>this is not json</html>"
        messages = request["messages"]
        tool_turns = [m for m in messages if m.get("role") == "tool"]
        if args.mode == "answer":
            x, y = args.point
            return self.text(args.answer_format.format(x=x, y=y) if args.answer_format else answer_text(x, y))
        if args.mode == "centre":  # the image of the last message is the last one seen
            width, height = seen[-1].size
            return self.text(answer_text(width / 2, height / 2))
        if args.mode == "marker":
            return self.text(marker_answer(seen[-1], args.answer_format, args.space))
        if args.mode == "loop" or not tool_turns:
            if args.mode in ("crop", "loop"):
                x1, y1, x2, y2 = args.box
                return self.call("crop", {"x1": x1, "y1": y1, "x2": x2, "y2": y2})
            code = MARKER_CODE if args.mode == "python" else open(args.code_file, encoding="utf-8").read()
            return self.call("python", {"code": code})
        if args.mode == "crop":
            shown = images_in(messages[-1])
            centre = marker_centre(shown[-1]) if shown else None
            if centre is None:
                return self.text("I cannot see the marker.")
            x1, y1, x2, y2 = args.box
            width, height = shown[-1].size
            return self.text(answer_text(x1 + centre[0] * (x2 - x1) / width, y1 + centre[1] * (y2 - y1) / height))
        if args.mode == "python":
            printed = re.search(r"output:\n([-\d.]+) ([-\d.]+)", tool_turns[-1]["content"])
            if not printed:
                return self.text("The code printed nothing I can use.")
            return self.text(answer_text(float(printed.group(1)), float(printed.group(2))))
        return self.text(answer_text(*args.point))

    def text(self, content):
        return self.completion({"role": "assistant", "content": content})

    def call(self, name, arguments):
        call = {
            "id": f"call_{len(self.requests)}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        return self.completion({"role": "assistant", "content": None, "tool_calls": [call]})

    def completion(self, message):
        body = {
            "id": "stub",
            "object": "chat.completion",
            "created": 0,
            "model": "stub",
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}
            ],
            "usage": {
                "prompt_tokens": self.local.prompt_tokens,
                "completion_tokens": 5,
                "total_tokens": self.local.prompt_tokens + 5,
            },
        }
        return 200, json.dumps(body).encode()


def handler_for(stub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path.endswith("/models"):
                self.send(200, json.dumps({"object": "list", "data": [{"id": "stub-model"}]}).encode())
            else:
                self.send(200, json.dumps({"requests": stub.requests}).encode())

        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            request["_authorization"] = self.headers.get("Authorization")
            self.send(*stub.reply(request))

        def send(self, status, body):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--mode", default="answer", choices=["crop", "python", "code", "loop", "answer", "centre", "marker"]
    )
    parser.add_argument("--answer-format")
    parser.add_argument("--space", default="resized-abs", choices=["resized-abs", "0-1000", "0-1"])
    parser.add_argument("--factor", type=int, default=28)
    parser.add_argument("--server-min-pixels", type=int, default=4 * 28 * 28)
    parser.add_argument("--server-max-pixels", type=int, default=16384 * 28 * 28)
    parser.add_argument("--box", type=float, nargs=4, default=[0, 0, 100, 100])
    parser.add_argument("--point", type=float, nargs=2, default=[10, 10])
    parser.add_argument("--code-file")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--fail", type=int, default=0)
    parser.add_argument("--garbage", action="store_true")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(Stub(args)))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
