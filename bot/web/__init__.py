"""The web server of the bot process: the webhooks, the commune police's desk, health and
metrics, on one Starlette app served by uvicorn."""

from bot.web.app import Deliver, WebConfig, build_web_app

__all__ = ["Deliver", "WebConfig", "build_web_app"]
