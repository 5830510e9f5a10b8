"""``/api/v1/keys``: the public keys manifests are signed with (no secret, no sign-in).

The current key first; during a key rotation (``content-server rotate-key``) the
next key too, as the server signs with both until the rotation is finished.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter

from ..deps import State
from ..schemas import KeysOut, PublicKeyOut

router = APIRouter(prefix="/keys", tags=["keys"])


@router.get("", summary="Public signing keys, as devices trust them")
async def get_keys(state: State) -> KeysOut:
    return KeysOut(
        keys=[
            PublicKeyOut(
                keyid=k.keyid,
                public=base64.b64encode(k.public.raw).decode("ascii"),
                spec=k.public.spec(),
            )
            for k in state.keys
        ]
    )
