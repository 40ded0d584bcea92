"""What a new user sees on the console: skipped images, a train model given
to the wrong kind, missing paths, an empty folder (one line each, real output
of the command)."""
import os
import warnings

import numpy as np
import pytest

from compare.run import main as run_compare
from compare.runner import skipped
from provenance.console import quiet_third_party
from replicate.train.snapshot import META_KEY, NONE_KEY

IMAGES = os.path.join(os.path.dirname(__file__), '..', '..', 'images')


def one_error(capsys, args):
    """Run the command: exit 2, exactly one stderr line, ``error: ...``."""
    assert run_compare([str(a) for a in args]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and 'Traceback' not in err, err
    return lines[0]


@pytest.fixture
def folder(tmp_path):
    """One good JPEG, a truncated JPEG, a text file named x.jpg."""
    images = tmp_path / 'images'
    images.mkdir()
    data = open(os.path.join(IMAGES, 'coffee.jpg'), 'rb').read()
    (images / 'good.jpg').write_bytes(data)
    (images / 'trunc.jpg').write_bytes(data[:3000])
    (images / 'x.jpg').write_text('hello\n')
    return images


def test_unreadable_images_are_warned_about_and_counted(folder, tmp_path, capsys):
    out = tmp_path / 'run'
    assert run_compare([str(folder), '-d', 'fake', '--out', str(out), '--no-progress',
                     '--no-speed']) == 0
    err = capsys.readouterr().err
    assert 'Traceback' not in err and ' object at 0x' not in err
    warned = [line for line in err.splitlines() if line.startswith('WARNING: skipped')]
    assert len(warned) == 2, err
    assert warned[0].startswith('WARNING: skipped trunc.jpg: OSError: image file is truncated (')
    assert warned[0].endswith(' bytes not processed); replace or remove it')
    assert warned[1] == ('WARNING: skipped x.jpg: UnidentifiedImageError: cannot identify image '
                         'file; replace or remove it')
    assert 'done: {}; 2 unreadable files skipped (see raw/skipped.csv)'.format(out) in \
        err.splitlines()
    assert 'skipped: 2 unreadable files (see raw/skipped.csv)' in err.splitlines()
    summary = (out / 'summary.md').read_text()
    assert 'Click a picture' not in summary
    assert 'The pictures of this section are in [report.html](report.html).' in summary
    assert 'Click a picture to enlarge it.' in (out / 'report.html').read_text()


def test_warnings_are_capped_and_deliberate_skips_not_warned():
    found = [('{:02d}.jpg'.format(i), 'cannot read image /a b/{:02d}.jpg: OSError: broken'
              .format(i)) for i in range(12)] + [('notes.txt', 'not an image file (suffix .txt)')]
    lines = skipped.warning_lines(found)
    assert len(lines) == 11
    assert lines[0] == 'WARNING: skipped 00.jpg: OSError: broken; replace or remove it'
    assert lines[-1] == 'WARNING: and 2 more unreadable file(s): see raw/skipped.csv'
    assert skipped.done_note(found[-1:]) == ''


def test_a_train_model_given_as_ours_weights_names_the_trained_kind(folder, tmp_path, capsys):
    model = tmp_path / 'model.npz'
    np.savez(model, **{'extractor/conv1_1/W': np.zeros((2, 2), np.float32),
                       META_KEY: np.array('{"model": {}}'), NONE_KEY: np.array([], dtype=str)})
    line = one_error(capsys, [folder, '-d', 'ours:{}'.format(model), '--out', tmp_path / 'r'])
    assert line == ('error: {} is a model written by python -m replicate.train, not a weights '
                    'file; run it with -d trained:{}'.format(model, model))
    assert not (tmp_path / 'r').exists()


@pytest.mark.parametrize('spec', ['ours:missing.npz', 'trained:missing.npz', 'tf:/nonexistent',
                                  'tf1:/nonexistent/frozen_inference_graph.pb',
                                  'ours-odapi:/nonexistent', 'fake,labels=/nonexistent.pbtxt'])
def test_a_missing_path_is_one_line_before_anything_loads(folder, tmp_path, capsys, spec):
    out = tmp_path / 'r'
    line = one_error(capsys, [folder, '-d', 'fake:1,name=other', '-d', spec, '--out', out])
    missing = spec.split(':', 1)[-1] if 'labels' not in spec else '/nonexistent.pbtxt'
    assert 'error: ' in line and '{} does not exist'.format(missing) in line
    assert not out.exists()   # checked before the run folder is made


def test_an_empty_folder_does_not_point_to_a_file_never_written(tmp_path, capsys):
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / 'notes.txt').write_text('x')
    line = one_error(capsys, [empty, '--out', tmp_path / 'r'])
    assert 'skipped.csv' not in line and not (tmp_path / 'r').exists()
    assert line.endswith('skipped 1 entry, notes.txt: not an image file (suffix .txt)); put '
                         'images there')


def test_quiet_third_party(monkeypatch):
    monkeypatch.delenv('TF_CPP_MIN_LOG_LEVEL', raising=False)
    source = "x = 1\nif x is 'a':\n    pass\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        quiet_third_party()
        compile(source, os.path.join('lib', 'site-packages', 'chainercv', 'm.py'), 'exec')
        assert caught == []
        compile(source, os.path.join('compare', 'm.py'), 'exec')   # ours still warn
        assert [w.category for w in caught] == [SyntaxWarning]
    assert os.environ['TF_CPP_MIN_LOG_LEVEL'] == '2'
    monkeypatch.setenv('TF_CPP_MIN_LOG_LEVEL', '0')
    quiet_third_party()
    assert os.environ['TF_CPP_MIN_LOG_LEVEL'] == '0'   # the user's choice is kept


ENTRY_POINTS = ('compare/run.py', 'compare/__main__.py', 'compare/score/__main__.py',
                'compare/merge.py', 'replicate/parity/__main__.py',
                'replicate/odapi/parity/__main__.py', 'replicate/bench/__main__.py',
                'replicate/train/__main__.py')


@pytest.mark.parametrize('path', ENTRY_POINTS)
def test_every_entry_point_quiets_before_importing_the_command(path):
    root = os.path.join(os.path.dirname(__file__), '..', '..')
    text = open(os.path.join(root, path)).read()
    assert 'quiet_third_party()' in text
    first_import = min(text.find(word) for word in ('from compare.', 'from replicate.',
                                                    'from compare ')
                       if word in text)
    assert text.index('quiet_third_party()') < first_import

