"""``lealta push``: browser and mobile push set-up."""

from __future__ import annotations

import typer

from lealta.cli.errors import friendly

push_app = typer.Typer(help="Push notifications: VAPID keys for browser push.")


@push_app.command("vapid-keys")
@friendly
def vapid_keys_command() -> None:
    """Print a fresh VAPID key pair as settings (base64url raw keys).

    Put both lines in the environment or ``.env``. Changing the keys later invalidates every
    browser subscription made with the old public key.
    """
    from lealta.channels.webpush_crypto import VapidKeys

    keys = VapidKeys.generate()
    typer.echo(f"LEALTA_VAPID_PUBLIC_KEY={keys.public_b64}")
    typer.echo(f"LEALTA_VAPID_PRIVATE_KEY={keys.private_b64}")
