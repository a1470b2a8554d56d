"""The lines that end a watched generation (milady_integrations.watched), however it ends."""

from __future__ import annotations

import re

import pytest

from milady_integrations import ImageDownloadError
from milady_integrations.results import GeneratedImage, ImageGenerationResult
from milady_integrations.watched import WatchedRun
from milady_integrations.wording import CANCELLED_MAY_BILL

MAY_BILL = rf"{re.escape(CANCELLED_MAY_BILL)} \(Gallery loads it\)"
BILLED = r"the images were billed and are in your gallery \(Gallery loads them\)"


@pytest.mark.parametrize(
    ("sent", "answered", "cancelled", "expected"),
    [
        (False, False, True, r"cancelled after \d+ s"),  # nothing sent, nothing billed
        (True, False, True, rf"cancelled after \d+ s; {MAY_BILL}"),
        (True, True, True, rf"cancelled after \d+ s; {BILLED}"),
        (True, False, False, rf"stopped after \d+ s; {MAY_BILL}"),
    ],
)
def test_a_stopped_run_says_what_may_have_been_billed_and_where_it_is(
    sent: bool, answered: bool, cancelled: bool, expected: str
) -> None:
    run = WatchedRun(gallery="Gallery")
    run.sent, run.answered = sent, answered
    assert re.fullmatch(expected, run.stopped_line(cancelled))


@pytest.mark.parametrize("answered", [False, True])
def test_a_failed_run_says_the_images_were_billed_once_the_service_answered(answered: bool) -> None:
    run = WatchedRun(gallery="Gallery")
    run.sent, run.answered = True, answered
    line = run.failed_line(ImageDownloadError("image 1 could not be downloaded", hint=""))
    expected = r"failed after \d+ s: image 1 could not be downloaded" + (f"; {BILLED}" if answered else "")
    assert re.fullmatch(expected, line)


def test_a_finished_run_names_the_images_it_could_not_read() -> None:
    result = ImageGenerationResult(images=[GeneratedImage(url="https://x/1.png")] * 2, requested=2)
    unread = [ImageDownloadError("image 2 could not be downloaded", hint="")]
    line = WatchedRun(gallery="Gallery").done_line(result, unread, where="urls")
    assert re.fullmatch(r"2 images in \d+ s; 1 image could not be read \(its URL is in urls\): image 2 .*", line)
