"""Stored image names: the one kind of file served without a signature must not be guessable."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"-[0-9a-f]{16}\.")


def test_uploaded_images_and_their_renditions_carry_a_random_token():
    """Two uploads of the same file name get different, unguessable names, and a rendition's name keeps the
    token (Wagtail builds it from the original's), so neither `/media/original_images/cover.png` nor
    `/media/images/cover.fill-….png` can be spelled out by someone who never saw the page."""
    Image = get_image_model()
    first = Image.objects.create(title="封面", file=get_test_image_file(filename="cover.png"))
    second = Image.objects.create(title="封面", file=get_test_image_file(filename="cover.png"))
    assert first.file.name != second.file.name
    for image in (first, second):
        assert image.file.name.startswith("original_images/cover-")
        assert TOKEN.search(image.file.name)
        rendition = image.get_rendition("fill-40x40")
        assert rendition.file.name.startswith("images/cover-")
        assert TOKEN.search(rendition.file.name)


def test_long_and_chinese_names_stay_within_the_column():
    """A long Chinese upload name still fits Wagtail's 100-character file column with its token."""
    Image = get_image_model()
    image = Image.objects.create(
        title="长名", file=SimpleUploadedFile("灯塔" * 80 + ".png", get_test_image_file().file.getvalue())
    )
    assert len(image.file.name) <= 100
    assert TOKEN.search(image.file.name)
