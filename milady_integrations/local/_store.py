"""Generated images kept in memory and served from permanent URLs.

Bounded: past ``max_bytes`` the least recently used images are dropped (their
URLs then answer 404), so a long-running demo cannot eat the machine's memory.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from ._faults import ImageUrlFault


@dataclass(frozen=True)
class StoredImage:
    data: bytes
    mime_type: str
    #: A fault this image's URL shows when fetched (404, hang, ...), or None.
    fault: ImageUrlFault | None = None


class ImageStore:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._images: OrderedDict[str, StoredImage] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def put(self, image: StoredImage, *, index: int) -> str:
        """Store ``image``; returns its id (the URL's last path segment without extension)."""
        image_id = f"{uuid.uuid4().hex}-{index}"
        with self._lock:
            self._images[image_id] = image
            self._size += len(image.data)
            while self._size > self.max_bytes and len(self._images) > 1:
                _, dropped = self._images.popitem(last=False)
                self._size -= len(dropped.data)
        return image_id

    def get(self, image_id: str) -> StoredImage | None:
        with self._lock:
            image = self._images.get(image_id)
            if image is not None:
                self._images.move_to_end(image_id)
            return image

    @property
    def size(self) -> int:
        with self._lock:
            return self._size

    def __len__(self) -> int:
        with self._lock:
            return len(self._images)
