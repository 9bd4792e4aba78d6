"""A Flask shop backend as a user writes it, logging through the module `orx-elastic instrument
python-flask` printed (its folder is argv[1]); prints its port when it listens.

APP_LOGGING says how its lines leave: `elasticsearch` (the printed ElasticsearchHandler, the filter on
it as the printed code says), `root-logger` (the filter on the root logger, as OpenReplay's own docs
do: child loggers skip it), `stderr-only` (JSON lines on stderr, no shipper).
"""

import logging
import os
import sys
import threading

sys.path.insert(0, sys.argv[1])

import openreplay_logging  # noqa: E402  (the printed file)
from flask import Flask, request  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

app = Flask(__name__)
app.wsgi_app = openreplay_logging.OpenReplayMiddleware(app.wsgi_app)
log = logging.getLogger("shop")
payments = logging.getLogger("shop.payments")  # a child logger
pair = threading.Barrier(2, timeout=20)  # two sessions' requests in flight at once


@app.get("/")
def index():
    return "ok"


@app.get("/checkout")
def checkout():
    log.error("checkout failed for cart %s", request.args.get("cart"))
    if request.args.get("together"):
        pair.wait()
    payments.error("card declined")
    return "declined", 402


mode = os.environ["APP_LOGGING"]
root = logging.getLogger()
root.setLevel(logging.INFO)
logging.getLogger("werkzeug").setLevel(logging.WARNING)
if mode == "stderr-only":
    handler = logging.StreamHandler()
    handler.setFormatter(openreplay_logging.JsonFormatter())
    openreplay_logging.install(handler)
else:
    handler = openreplay_logging.ElasticsearchHandler(os.environ["ES_URL"], os.environ["ES_INDEX"],
                                                      api_key=os.environ["ES_API_KEY"])
    if mode == "elasticsearch":
        openreplay_logging.install(handler)
    else:
        root.addFilter(openreplay_logging.OpenReplayFilter())
root.addHandler(handler)

server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.port, flush=True)
server.serve_forever()
