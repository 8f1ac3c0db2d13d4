"""One lock per chat: a chat's updates are handled in order, different chats concurrently."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Hashable


class ChatLocks:
    def __init__(self) -> None:
        # Weak: a lock lives while someone holds or waits for it, then goes.
        self._locks: weakref.WeakValueDictionary[Hashable, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def __call__(self, chat: Hashable) -> asyncio.Lock:
        lock = self._locks.get(chat)
        if lock is None:
            lock = self._locks[chat] = asyncio.Lock()
        return lock
