"""Hostile image folders given to ``compare/run.py``: broken, odd-mode, huge
and strange files must be either read or skipped with their reason in
``raw/skipped.csv``, never crash the run nor hang it."""

import io
import os
import struct
import zlib

import numpy as np
import pytest
from hunt_helpers import QUICK, assert_user_error, make_images, records, run, skipped
from PIL import Image


def _png_chunk(kind, data):
    return (
        struct.pack('>I', len(data))
        + kind
        + data
        + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def huge_header_png(width, height):
    """A PNG whose header declares ``width`` x ``height`` RGB, with almost no data."""
    return (
        b'\x89PNG\r\n\x1a\n'
        + _png_chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b'IDAT', zlib.compress(b'\0' * 64))
        + _png_chunk(b'IEND', b'')
    )


def png_bytes(mode='RGB', size=(30, 20)):
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, 'PNG')
    return buf.getvalue()


def jpeg_bytes(size=(30, 20)):
    buf = io.BytesIO()
    Image.fromarray(np.random.RandomState(1).randint(0, 255, size[::-1] + (3,), np.uint8)).save(
        buf, 'JPEG'
    )
    return buf.getvalue()


def _run(capsys, tmp_path, *extra):
    return run(
        capsys, tmp_path / 'img', '-d', 'fake', '--out', tmp_path / 'run', *(QUICK + list(extra))
    )


BROKEN = {
    'not_an_image': ('corrupt.jpg', b'not a jpeg'),
    'zero_bytes': ('empty.png', b''),
    'png_truncated_in_header': ('trunc.png', png_bytes()[:40]),
    'png_header_10G_pixels': ('huge.png', huge_header_png(100000, 100000)),
    'png_header_max_dims': ('max.png', huge_header_png(2**31 - 1, 2**31 - 1)),
    'png_header_zero_width': ('zerow.png', huge_header_png(0, 20)),
    'jpeg_only_soi': ('soi.jpg', b'\xff\xd8\xff'),
    'gif_header_only': ('g.gif', b'GIF89a'),
    'html_named_png': ('page.png', b'<html><body>hi</body></html>'),
}


@pytest.mark.parametrize('name,data', BROKEN.values(), ids=list(BROKEN))
def test_broken_image_is_skipped_with_its_reason(capsys, tmp_path, name, data):
    folder = make_images(tmp_path / 'img', 1)
    with open(os.path.join(folder, name), 'wb') as f:
        f.write(data)
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert list(records(tmp_path / 'run')) == ['im0.png']
    assert name in skipped(tmp_path / 'run')


def _save_mode(path, mode):
    if mode == 'I;16':
        Image.fromarray(np.arange(600, dtype=np.uint16).reshape(20, 30) * 100).save(path)
    elif mode == 'gif-animated':
        frames = [Image.new('P', (30, 20), i) for i in range(3)]
        frames[0].save(path, save_all=True, append_images=frames[1:])
    elif mode == 'RGB16':  # 32-bit integer grey (mode I), as TIFF
        Image.fromarray(np.full((20, 30), 70000, np.int32)).save(path)
    else:
        Image.new(mode, (30, 20)).save(path)


MODES = {
    'CMYK': 'c.jpg',
    'I;16': 'i16.png',
    'P': 'p.png',
    'RGBA': 'a.png',
    'LA': 'la.png',
    '1': 'bw.png',
    'L': 'g.png',
    'gif-animated': 'anim.gif',
    'RGB16': 'i32.tif',
    'YCbCr': 'y.jpg',
}


@pytest.mark.parametrize('mode', list(MODES))
def test_odd_mode_image_is_read_at_its_size(capsys, tmp_path, mode):
    folder = make_images(tmp_path / 'img', 1)
    _save_mode(os.path.join(folder, MODES[mode]), mode)
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    rec = records(tmp_path / 'run')[MODES[mode]]
    assert (rec['width'], rec['height']) == (30, 20)


def test_float_mode_image_is_skipped_with_the_fix(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    Image.new('F', (30, 20)).save(os.path.join(folder, 'f.tiff'))
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0
    assert 'convert' in skipped(tmp_path / 'run')['f.tiff']


def test_png_content_named_jpg_is_read(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    with open(os.path.join(folder, 'liar.jpg'), 'wb') as f:
        f.write(png_bytes())
    assert _run(capsys, tmp_path)[0] == 0
    assert records(tmp_path / 'run')['liar.jpg']['width'] == 30


def test_jpeg_truncated_mid_data_is_read_or_skipped_never_fatal(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    data = jpeg_bytes((300, 200))
    with open(os.path.join(folder, 'half.jpg'), 'wb') as f:
        f.write(data[: len(data) // 2])
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert ('half.jpg' in records(tmp_path / 'run')) != ('half.jpg' in skipped(tmp_path / 'run'))


def test_exif_rotated_jpeg_is_read_without_crash(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new('RGB', (30, 20)).save(os.path.join(folder, 'rot.jpg'), exif=exif)
    assert _run(capsys, tmp_path)[0] == 0
    rec = records(tmp_path / 'run')['rot.jpg']
    assert {rec['width'], rec['height']} == {20, 30}


def test_one_pixel_image_is_read(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    Image.new('RGB', (1, 1)).save(os.path.join(folder, 'dot.png'))
    assert _run(capsys, tmp_path)[0] == 0
    assert records(tmp_path / 'run')['dot.png']['width'] == 1


def test_duplicate_images_each_get_a_record(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    with open(os.path.join(folder, 'im0.png'), 'rb') as f:
        data = f.read()
    os.makedirs(os.path.join(folder, 'sub'))
    for name in ('copy.png', 'sub/im0.png'):
        with open(os.path.join(folder, name), 'wb') as f:
            f.write(data)
    assert _run(capsys, tmp_path)[0] == 0
    recs = records(tmp_path / 'run')
    assert sorted(recs) == ['copy.png', 'im0.png', 'sub/im0.png']
    assert len({r['sha256'] for r in recs.values()}) == 1


def test_directory_named_like_an_image_is_walked_not_read(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    make_images(os.path.join(folder, 'dir.png'), 1)
    assert _run(capsys, tmp_path)[0] == 0
    assert sorted(records(tmp_path / 'run')) == ['dir.png/im0.png', 'im0.png']


def test_symlink_loop_is_skipped(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    os.symlink('loop.png', os.path.join(folder, 'loop.png'))
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert 'loop.png' in skipped(tmp_path / 'run')


def test_dangling_symlink_is_skipped(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    os.symlink(str(tmp_path / 'gone.png'), os.path.join(folder, 'gone.png'))
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert 'gone.png' in skipped(tmp_path / 'run')


def test_directory_symlink_loop_does_not_recurse_forever(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    os.symlink('.', os.path.join(folder, 'again'))
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert 'im0.png' in records(tmp_path / 'run')


def test_symlink_to_device_is_skipped(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    os.symlink('/dev/zero', os.path.join(folder, 'zero.png'))
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert 'zero.png' in skipped(tmp_path / 'run')


@pytest.mark.timeout(60)
def test_fifo_named_like_an_image_is_skipped_without_blocking(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    os.mkfifo(os.path.join(folder, 'pipe.png'))
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert 'pipe.png' in skipped(tmp_path / 'run')


def test_non_utf8_file_name_is_skipped_with_a_reason(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    with open(os.path.join(os.fsencode(folder), b'bad\xff.png'), 'wb') as f:
        f.write(png_bytes())
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert list(records(tmp_path / 'run')) == ['im0.png']
    assert len(skipped(tmp_path / 'run')) == 1


@pytest.mark.parametrize(
    'name', ['new\nline.png', 'comma,"quote".png', ' lead.png', 'tab\tname.png']
)
def test_strange_names_survive_the_csv(capsys, tmp_path, name):
    folder = make_images(tmp_path / 'img', 1)
    with open(os.path.join(folder, name), 'wb') as f:
        f.write(b'broken')
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert skipped(tmp_path / 'run') and list(skipped(tmp_path / 'run')) == [name]


def test_unreadable_permissions_are_skipped(capsys, tmp_path):
    if os.geteuid() == 0:
        pytest.skip('root reads every file')
    folder = make_images(tmp_path / 'img', 1)
    path = os.path.join(folder, 'locked.png')
    with open(path, 'wb') as f:
        f.write(png_bytes())
    os.chmod(path, 0)
    code, err, _ = _run(capsys, tmp_path)
    os.chmod(path, 0o600)
    assert code == 0, err
    assert 'locked.png' in skipped(tmp_path / 'run')


def test_image_over_the_size_limit_is_skipped_unread(capsys, tmp_path):
    folder = make_images(tmp_path / 'img', 1)
    with open(os.path.join(folder, 'big.png'), 'wb') as f:
        f.write(png_bytes())
        f.truncate(300 * 2**20)  # sparse: costs no disk
    code, err, _ = _run(capsys, tmp_path)
    assert code == 0, err
    assert 'big.png' in skipped(tmp_path / 'run')


def test_folder_of_only_broken_images_is_incomplete(capsys, tmp_path):
    os.makedirs(tmp_path / 'img')
    (tmp_path / 'img' / 'a.png').write_bytes(b'x')
    code, err, _ = _run(capsys, tmp_path)
    assert code == 3, err
    assert 'incomplete:' in err + _


def test_empty_images_folder_is_refused_or_incomplete(capsys, tmp_path):
    os.makedirs(tmp_path / 'img')
    code, err, out = _run(capsys, tmp_path)
    assert code in (2, 3), err
    assert (
        len([x for x in (err + out).splitlines() if x.startswith(('error:', 'incomplete:'))]) == 1
    )


def test_missing_images_folder_is_a_user_error(capsys, tmp_path):
    assert_user_error(_run(capsys, tmp_path), 'img')
    assert not os.path.exists(tmp_path / 'run')


def test_images_argument_is_a_file_is_a_user_error(capsys, tmp_path):
    (tmp_path / 'img').write_bytes(png_bytes())
    assert_user_error(_run(capsys, tmp_path), 'img')


def test_images_argument_empty_string_is_a_user_error(capsys, tmp_path):
    assert_user_error(run(capsys, '', '-d', 'fake', '--out', tmp_path / 'run', *QUICK))
