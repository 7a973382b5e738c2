"""``python -m licence_reminder.simulator --host 127.0.0.1 --port 8765 [--port-file FILE]``

``--print-conn PROVIDER`` prints the ``AIRFLOW_CONN_…`` JSON that points that provider's adapter at a
simulator on ``--host``/``--port`` (test credentials only) and exits; ``--receipt-delay`` makes
Tencent receipts appear that many seconds after acceptance, as carrier reports do;
``--approved FILE`` approves the templates ``python -m licence_reminder.cli catalogue templates
--json`` wrote there, for every provider, so that each message is checked against its text.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from licence_reminder.simulator.server import SimulatorCredentials, airflow_connection, make_server

log = logging.getLogger("licence_reminder.simulator")

PROVIDERS = ("aliyun", "tencent", "generic", "wechat_miniprogram")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="SMS gateway simulator (loopback, test credentials)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--port-file", type=Path, help="write the bound port here (use with --port 0)"
    )
    parser.add_argument(
        "--receipt-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="Tencent receipts show in the pull API this long after acceptance",
    )
    parser.add_argument(
        "--approved",
        type=Path,
        metavar="FILE",
        help="approve the templates of `catalogue templates --json` (written to FILE)",
    )
    parser.add_argument(
        "--wechat-template",
        action="store_true",
        help="register the demo's mini-program template (simulator/wechat.py DEMO_TEMPLATE)",
    )
    parser.add_argument(
        "--print-conn",
        choices=PROVIDERS,
        metavar="PROVIDER",
        help=f"print the Airflow connection JSON for one of {', '.join(PROVIDERS)} and exit",
    )
    args = parser.parse_args(argv)
    if args.print_conn:
        print(
            json.dumps(
                airflow_connection(args.print_conn, f"http://{args.host}:{args.port}"),
                ensure_ascii=False,
            )
        )
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    server = make_server(args.host, args.port)
    server.state.receipt_delay_seconds = args.receipt_delay
    if args.approved:
        for template in json.loads(args.approved.read_text(encoding="utf-8")):
            for provider, text in template["texts"].items():
                server.state.approve(provider, {template["name"]: text})
    if args.wechat_template:
        from licence_reminder.simulator.wechat import DEMO_TEMPLATE

        server.wechat.templates[DEMO_TEMPLATE["template_id"]] = list(DEMO_TEMPLATE["data"])
    port = server.server_address[1]
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    if args.port_file:
        args.port_file.write_text(str(port))
    base = f"http://{args.host}:{port}"
    creds: SimulatorCredentials = server.state.credentials
    # key ids only: the secrets are the simulator's own, but a deployment may set real-looking ones
    log.info("SMS simulator listening on %s", base)
    log.info("  aliyun : %s/aliyun/  AccessKeyId %s", base, creds.aliyun_key_id)
    log.info(
        "  tencent: %s/tencent/  SecretId %s, SdkAppId %s",
        base,
        creds.tencent_secret_id,
        creds.tencent_sdk_app_id,
    )
    log.info(
        "  generic: %s/generic/sms/send, status %s/generic/sms/status, app id %s (%s)",
        base,
        base,
        creds.generic_app_id,
        "HMAC-signed" if creds.generic_secret else "unsigned",
    )
    log.info(
        "  wechat : %s/wechat/cgi-bin/token, …/message/subscribe/send, AppID %s",
        base,
        server.wechat.appid,
    )
    log.info("  connection JSON: --port %s --print-conn PROVIDER", port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
