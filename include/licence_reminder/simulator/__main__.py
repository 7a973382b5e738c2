"""``python -m licence_reminder.simulator --host 127.0.0.1 --port 8765 [--port-file FILE]``"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from licence_reminder.simulator.server import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="SMS gateway simulator (loopback, test credentials)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--port-file", type=Path, help="write the bound port here (use with --port 0)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    server = make_server(args.host, args.port)
    port = server.server_address[1]
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    if args.port_file:
        args.port_file.write_text(str(port))
    logging.info("SMS simulator listening on http://%s:%s (aliyun at /aliyun/)", args.host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
