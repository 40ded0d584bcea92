"""How an OD API export takes its images: the input types of the OD API
exporters (``--input_type``), recognised from the export and fed:

- ``image_tensor``: TF2 ``input_tensor`` uint8 [1, H, W, 3]; TF1
  ``image_tensor:0`` (SavedModel: ``inputs``) uint8 [N, H, W, 3];
- ``float_image_tensor`` (TF2 only): ``input_tensor`` float32 [N, H, W, 3],
  pixel values 0-255;
- ``encoded_image_string_tensor``: TF2 ``input_tensor`` string [N]; TF1
  ``encoded_image_string_tensor:0`` (SavedModel: ``inputs``) string [N];
- ``tf_example``: TF2 ``input_tensor`` string [N]; TF1 ``tf_example:0``
  (SavedModel: ``inputs``) string [N].

The two string inputs are told apart by the ops of the model: a
``tf_example`` export parses ``tf.train.Example`` protos (``ParseExample*``).

What is fed (:func:`feed`), per image:

- tensor inputs get the pixels: PIL's (:func:`compare.images.load_rgb`, as
  every detector) with ``decode=pil``, the default; with ``decode=tf`` the
  image file's bytes decoded by TensorFlow's ``tf.io.decode_image(channels=3)``
  as the OD API's own input pipelines do. ``float_image_tensor`` gets them
  cast to float32 (0-255: the export maps them to its own range).
- string inputs get ENCODED bytes, decoded inside the model by
  ``tf.image.decode_image(channels=3)`` (``tf_example``: inside a
  ``tf.train.Example`` holding ``image/encoded``, ``image/format``,
  ``image/height``, ``image/width``, read by the OD API's TfExampleDecoder).
  With ``decode=tf``, their default, that is the file's own bytes, so the
  model decodes the image as it does in production; with ``decode=pil`` it
  is a PNG of PIL's pixels (lossless: the model sees PIL's pixels).

File bytes are used only when :func:`compare.images.load_image` kept them:
8-bit JPEG or PNG without EXIF rotation (another decoder gives that frame).
Other images always go as PIL's pixels (or a PNG of them): their boxes must
be in the frame every detector sees.

Batches: one call takes images of one size (a batch tensor is rectangular,
and the exporters' ``map_fn`` stacks decoded images), at most ``max_batch``
(1 for the TF2 ``image_tensor`` signature, which silently returns one result
for a batch of 2).
"""
import dataclasses
import io

import numpy as np

from compare.errors import UserError

IMAGE, FLOAT, ENCODED, EXAMPLE = ('image_tensor', 'float_image_tensor',
                                  'encoded_image_string_tensor', 'tf_example')
#: Input types whose model decodes encoded bytes itself.
STRING_INPUTS = (ENCODED, EXAMPLE)
#: The frozen graph placeholder of each TF1 input type.
TF1_PLACEHOLDERS = {IMAGE: 'image_tensor', ENCODED: 'encoded_image_string_tensor',
                    EXAMPLE: 'tf_example'}
_PARSE_OPS = ('ParseExample', 'ParseExampleV2', 'ParseSingleExample')
DECODES = ('pil', 'tf')
#: Re-export command for an export this suite cannot feed.
REEXPORT = ('re-export it with the OD API: exporter_main_v2.py --input_type image_tensor '
            '--pipeline_config_path PIPELINE --trained_checkpoint_dir CKPT --output_directory '
            'OUT (TF1: export_inference_graph.py --input_type image_tensor)')


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """What one export takes.

    Attributes:
        input_type: one of the four OD API input types (module table).
        max_batch: images per call at most (None: any).
        key: the signature's input name, or the frozen graph's tensor name.
    """
    input_type: str
    max_batch: object
    key: str


def default_decode(input_type):
    """``'tf'`` for exports that decode bytes themselves, else ``'pil'``."""
    return 'tf' if input_type in STRING_INPUTS else 'pil'


def check_decode(value, spec):
    """The ``decode=`` option, validated (None: the default)."""
    if value is None or value in DECODES:
        return value
    raise UserError('decode={!r} in {!r}: use decode=pil (PIL pixels, as every detector) or '
                    'decode=tf (TensorFlow decodes the JPEG/PNG file)'.format(value, spec))


def from_signature(key, dtype, shape, op_types, where):
    """The :class:`InputSpec` of a SavedModel's one serving input.

    Args:
        key: input name; dtype: ``tf.DType`` name; shape: list (None unknown).
        op_types: set of op types in the model's graph (with its functions).
        where: the model path, for errors.
    """
    rank = len(shape) if shape is not None else None
    if dtype in ('uint8', 'float32') and rank == 4 and shape[3] in (3, None):
        _refuse_fixed_size(shape, where, key)
        return InputSpec(IMAGE if dtype == 'uint8' else FLOAT,
                         1 if shape[0] == 1 else None, key)
    if dtype == 'string' and rank == 1:
        return InputSpec(EXAMPLE if op_types & set(_PARSE_OPS) else ENCODED, None, key)
    return None


def from_placeholder(name, dtype, shape, where):
    """The :class:`InputSpec` of a TF1 frozen graph input placeholder, or None."""
    for input_type, placeholder in TF1_PLACEHOLDERS.items():
        if name == placeholder:
            if input_type == IMAGE:
                _refuse_fixed_size(shape, where, name)
            return InputSpec(input_type, 1 if shape and shape[0] == 1 else None, name + ':0')
    return None


def _refuse_fixed_size(shape, where, key):
    if shape is not None and len(shape) == 4 and (shape[1] is not None or shape[2] is not None):
        raise UserError('{}: input {} has a fixed image size {}x{} (exported with '
                        '--input_shape); images of any size are compared, so {}'.format(
                            where, key, shape[1], shape[2], REEXPORT.replace(
                                '--input_type image_tensor', '--input_type image_tensor '
                                'without --input_shape')))


def groups(images, max_batch):
    """Consecutive runs of same-size images, each at most ``max_batch`` long:
    a list of lists of indices into ``images``."""
    found = []
    for index, image in enumerate(images):
        last = found[-1] if found else None
        if (last and images[last[0]].shape == image.shape
                and (max_batch is None or len(last) < max_batch)):
            last.append(index)
        else:
            found.append([index])
    return found


def feed(spec, images, decode, tf):
    """The value to feed for ``images`` (one group, same size), and how many
    images went as their file's own bytes.

    Returns:
        ``(value, file_bytes_count)``: a numpy array ``[N, H, W, 3]`` (uint8
        or float32) or a list of N ``bytes``.
    """
    decode = decode or default_decode(spec.input_type)
    if spec.input_type in STRING_INPUTS:
        encoded = [_encoded(image, decode) for image in images]
        count = sum(from_file for _, _, from_file in encoded)
        if spec.input_type == EXAMPLE:
            return [_example(tf, data, fmt, image.shape) for (data, fmt, _), image in
                    zip(encoded, images, strict=True)], count
        return [data for data, _, _ in encoded], count
    pixels = [_tf_decoded(tf, image) if decode == 'tf' else (np.asarray(image), False)
              for image in images]
    count = sum(from_file for _, from_file in pixels)
    # N x (H, W, 3) -> (N, H, W, 3)
    batch = np.stack([p for p, _ in pixels])
    return (batch.astype(np.float32) if spec.input_type == FLOAT else batch.astype(np.uint8),
            count)


def _encoded(image, decode):
    """``(bytes, format, from the file)`` of one image (module doc)."""
    data = getattr(image, 'encoded', None)
    if decode == 'tf' and data is not None:
        return data, image.format.lower(), True
    from PIL import Image
    out = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(out, format='PNG')
    return out.getvalue(), 'png', False


def _tf_decoded(tf, image):
    """``(pixels, from the file)``: TensorFlow's decoding of the image file
    (as the OD API decodes), or the given pixels when no file bytes were kept."""
    data = getattr(image, 'encoded', None)
    if data is None:
        return np.asarray(image), False
    decoded = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
    if decoded.shape != image.shape:
        raise UserError('TensorFlow decodes an image to {} but PIL to {}; use decode=pil'.format(
            decoded.shape, image.shape))
    return decoded, True


def _example(tf, data, fmt, shape):
    """A serialized ``tf.train.Example`` as the OD API's dataset tools write it."""
    def feature(value):
        if isinstance(value, bytes):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
    return tf.train.Example(features=tf.train.Features(feature={
        'image/encoded': feature(data), 'image/format': feature(fmt.encode()),
        'image/height': feature(int(shape[0])), 'image/width': feature(int(shape[1]))}
    )).SerializeToString()


def describe(spec, decode):
    """One line for the detector's info: what the model is fed."""
    decode = decode or default_decode(spec.input_type)
    if spec.input_type in STRING_INPUTS:
        what = ('the JPEG/PNG file bytes, decoded by the model itself (tf.image.decode_image, '
                'as in production)' if decode == 'tf' else
                'a PNG of the PIL pixels (lossless), decoded by the model')
        where = ' inside a tf.train.Example' if spec.input_type == EXAMPLE else ''
        return '{} ({}): {}{}; other images: a PNG of the PIL pixels'.format(
            spec.input_type, spec.key, what, where)
    what = ('the JPEG/PNG file decoded by TensorFlow (tf.io.decode_image), as the OD API '
            'pipelines decode; other images: the PIL pixels' if decode == 'tf'
            else 'the PIL pixels')
    cast = ' cast to float32' if spec.input_type == FLOAT else ''
    return '{} ({}): {}{}'.format(spec.input_type, spec.key, what, cast)


def pixels_source(spec, decode):
    """Short form for the report's 'What ran' table: ``PIL`` or ``TF``."""
    return 'TF' if (decode or default_decode(spec.input_type)) == 'tf' else 'PIL'
