"""A scripted stand-in for a tool-calling model server, speaking OpenAI chat completions on 127.0.0.1.

It prints its port on the first line of stdout, then serves until killed. Behaviours (--mode):
  crop       first turn: call `crop` on --box; next turn: find the red marker in the image the tool sent back and
             answer its position on the screenshot, computed from the box it asked for and the crop's size
  python     first turn: call `python` with code that finds the red marker in `image`; next turn: answer the
             position the code printed
  code       first turn: call `python` with the code in --code-file; next turn: answer --point
  loop       always call `crop` (never answers)
  answer     answer --point at once (with --delay, --fail N first requests with HTTP 500, --garbage)
  centre     answer the centre of the image it was sent, in that image's pixels
Answers use the Qwen2.5-VL computer-use tool-call text. GET /stats returns the requests seen (images elided).
"""

import argparse
import base64
import io
import json
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


def answer_text(x, y):
    arguments = {"action": "left_click", "coordinate": [round(x), round(y)]}
    return "<tool_call>\n" + json.dumps({"name": "computer_use", "arguments": arguments}) + "\n</tool_call>"


def marker_centre(picture):
    a = np.asarray(picture.convert("RGB")).astype(int)
    ys, xs = np.nonzero((a[..., 0] > 180) & (a[..., 1] < 90) & (a[..., 2] < 90))
    if len(xs) == 0:
        return None
    return xs.mean() + 0.5, ys.mean() + 0.5


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


def elide(messages):
    text = json.dumps(messages)
    return json.loads(re.sub(r"data:image/[^\"]+", "<image>", text))


class Stub:
    def __init__(self, args):
        self.args = args
        self.requests = []
        self.lock = threading.Lock()

    def reply(self, request):
        """(status, body bytes) for one chat request."""
        with self.lock:
            self.requests.append({
                "messages": elide(request.get("messages", [])),
                "tools": [t["function"]["name"] for t in request.get("tools", [])],
                "model": request.get("model"),
                "authorization": request.get("_authorization"),
                "sizes": [list(i.size) for m in request.get("messages", []) for i in images_in(m)],
            })
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
            return self.text(answer_text(*args.point))
        if args.mode == "centre":
            width, height = images_in(messages[-1])[0].size
            return self.text(answer_text(width / 2, height / 2))
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
        call = {"id": f"call_{len(self.requests)}", "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)}}
        return self.completion({"role": "assistant", "content": None, "tool_calls": [call]})

    def completion(self, message):
        body = {"id": "stub", "object": "chat.completion", "created": 0, "model": "stub",
                "choices": [{"index": 0, "message": message,
                             "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
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
    parser.add_argument("--mode", default="answer", choices=["crop", "python", "code", "loop", "answer", "centre"])
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
