"""compare.images.load_rgb on every kind of file users have, made with PIL."""
import io

import numpy as np
import pytest
from PIL import Image

from compare.errors import UserError
from compare.images import list_images, load_image, load_rgb


def _gradient(height=12, width=20):
    """(H, W, 3) uint8 with distinct channels."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([ys * 10, xs * 12, (ys + xs) * 5], axis=2).astype(np.uint8)


def test_rgb_png_is_returned_unchanged(tmp_path):
    pixels = _gradient()
    Image.fromarray(pixels).save(tmp_path / 'a.png')
    out = load_rgb(tmp_path / 'a.png')
    assert out.dtype == np.uint8 and out.shape == (12, 20, 3)
    np.testing.assert_array_equal(out, pixels)


def test_sixteen_bit_png_is_scaled_not_truncated(tmp_path):
    values = np.array([[0, 257, 65535, 32896, 1000]], np.uint16)
    Image.fromarray(values).save(tmp_path / 'g16.png')
    assert Image.open(tmp_path / 'g16.png').mode.startswith('I')
    out = load_rgb(tmp_path / 'g16.png')
    expected = np.round(values / 257.0).astype(np.uint8)  # 0, 1, 255, 128, 4
    np.testing.assert_array_equal(out[..., 0], expected)
    np.testing.assert_array_equal(out[..., 2], expected)


def test_rgba_drops_alpha_and_keeps_colour(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 200, 100, 50
    rgba[..., 3] = 0  # fully transparent: colour kept anyway (documented choice)
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'a.png')
    out = load_rgb(tmp_path / 'a.png')
    assert out.shape == (4, 5, 3)
    assert (out == [200, 100, 50]).all()


def test_cmyk_jpeg_is_converted(tmp_path):
    Image.new('CMYK', (8, 6), (0, 255, 255, 0)).save(tmp_path / 'c.jpg', quality=100)
    out = load_rgb(tmp_path / 'c.jpg')
    assert out.shape == (6, 8, 3)
    red, green, blue = out.reshape(-1, 3).mean(axis=0)
    assert red > 240 and green < 15 and blue < 15  # pure red in CMYK


def test_grayscale_repeats_the_channel(tmp_path):
    gray = _gradient()[..., 0]
    Image.fromarray(gray, 'L').save(tmp_path / 'g.png')
    out = load_rgb(tmp_path / 'g.png')
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], gray)


def test_palette_image_uses_its_palette(tmp_path):
    image = Image.new('P', (3, 2))
    image.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    image.putdata([1, 0, 1, 1, 1, 0])
    image.save(tmp_path / 'p.png')
    out = load_rgb(tmp_path / 'p.png')
    assert out[0, 0].tolist() == [10, 20, 30] and out[0, 1].tolist() == [0, 0, 0]


def test_palette_with_transparency(tmp_path):
    image = Image.new('P', (2, 2))
    image.putpalette([1, 2, 3, 40, 50, 60] + [0] * 762)
    image.putdata([0, 1, 1, 1])
    image.save(tmp_path / 't.png', transparency=0)
    out = load_rgb(tmp_path / 't.png')
    assert out.shape == (2, 2, 3)
    assert out[0, 0].tolist() == [1, 2, 3] and out[1, 1].tolist() == [40, 50, 60]


def test_exif_orientation_is_applied(tmp_path):
    pixels = _gradient(12, 20)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # orientation 6: display = stored rotated 90 degrees clockwise
    image.save(tmp_path / 'r.jpg', exif=exif, quality=100)
    out = load_rgb(tmp_path / 'r.jpg')
    assert out.shape == (20, 12, 3)  # displayed frame: height and width swapped
    # clockwise rotation: displayed top-left is stored bottom-left
    expected = np.rot90(pixels, k=-1).astype(int)
    assert np.abs(out.astype(int) - expected).mean() < 3  # JPEG loss only


def test_loaded_image_keeps_the_file_bytes_only_when_they_decode_to_its_frame(tmp_path):
    """JPEG/PNG 8-bit without EXIF rotation: the file's bytes ride along (TF
    adapters may decode them); otherwise None. load_rgb stays a plain array."""
    pixels = _gradient(12, 20)
    Image.fromarray(pixels).save(tmp_path / 'a.jpg', quality=95)
    Image.fromarray(pixels).save(tmp_path / 'a.png')
    Image.fromarray(pixels).save(tmp_path / 'a.tiff')
    Image.fromarray((pixels[:, :, 0].astype(np.uint16) * 257)).save(tmp_path / 'g16.png')
    rotated = Image.fromarray(pixels)
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(tmp_path / 'r.jpg', exif=exif)
    for name, kept in [('a.jpg', 'JPEG'), ('a.png', 'PNG'), ('a.tiff', None),
                       ('g16.png', None), ('r.jpg', None)]:
        image = load_image(tmp_path / name)
        assert image.format == kept, name
        if kept:
            assert image.encoded == (tmp_path / name).read_bytes()
        else:
            assert image.encoded is None
        np.testing.assert_array_equal(image, load_rgb(tmp_path / name))
        assert type(load_rgb(tmp_path / name)) is np.ndarray
        assert image[1:].encoded is None and image.copy().encoded is None


@pytest.mark.parametrize('content', [b'', b'not an image at all', b'\x89PNG\r\n\x1a\n garbage'])
def test_corrupt_files_raise_a_one_line_user_error(tmp_path, content):
    path = tmp_path / 'bad.png'
    path.write_bytes(content)
    with pytest.raises(UserError) as info:
        load_rgb(path)
    assert str(path) in str(info.value) and '\n' not in str(info.value)


def test_truncated_jpeg_is_a_user_error(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.random.RandomState(0).randint(0, 255, (64, 64, 3), np.uint8)).save(
        buffer, 'JPEG')
    (tmp_path / 'cut.jpg').write_bytes(buffer.getvalue()[:len(buffer.getvalue()) // 2])
    with pytest.raises(UserError, match='cut.jpg'):
        load_rgb(tmp_path / 'cut.jpg')


def test_float_images_are_refused(tmp_path):
    Image.fromarray(np.ones((3, 3), np.float32), 'F').save(tmp_path / 'f.tiff')
    with pytest.raises(UserError, match='mode F'):
        load_rgb(tmp_path / 'f.tiff')


def test_list_images_sorted_posix_with_skipped(tmp_path):
    (tmp_path / 'sub').mkdir()
    (tmp_path / '.hidden').mkdir()
    for name in ('b.png', 'A.JPG', 'sub/c.jpeg', '.hidden/d.png', 'notes.txt', 'sub/x.xml'):
        (tmp_path / name).write_bytes(b'x')
    images, skipped = list_images(str(tmp_path))
    assert images == ['A.JPG', 'b.png', 'sub/c.jpeg']
    assert [s[0] for s in skipped] == ['notes.txt', 'sub/x.xml']
    assert '.txt' in skipped[0][1]


def test_list_images_errors(tmp_path):
    with pytest.raises(UserError, match='does not exist'):
        list_images(str(tmp_path / 'missing'))
    (tmp_path / 'readme.txt').write_text('x')
    with pytest.raises(UserError, match='no images found'):
        list_images(str(tmp_path))
    with pytest.raises(UserError, match='not a folder'):
        list_images(str(tmp_path / 'readme.txt'))
