"""Rows shared by both parity commands (TF2 exports, :mod:`replicate.odapi.parity.cli`;
TF1 frozen graphs, :mod:`replicate.odapi.parity.frozen_run`): the images they
feed and the end-to-end network rows."""
import numpy as np

from replicate.parity import inputs, metrics


def raw_images(args):
    """float32 (3, H, W) RGB images with integer values (they go to TF as uint8)."""
    if args.images:
        return inputs.read_images(args.images)
    return inputs.generated_images(args.batch, args.seed + 1, inputs.RAW_SIZES)


def end_to_end_rows(ours, reference, exact, rtol):
    """Rows of the network run end to end from the shared preprocessed input.

    Each row's note gives the float32 error of both sides: the scaled error
    of TF's and of our float32 output against our float64 evaluation
    (``exact``) of the same network, so that a difference can be read
    against the rounding error TF itself makes.
    """
    rows = metrics.compare_traces(ours, reference, rtol)
    for row in rows:
        name = row['name']
        if name in exact:
            tf_error, ours_error = (metrics.errors(side[name], exact[name].astype(np.float32))[
                'scaled_err'] for side in (reference, ours))
            row['note'] = '; '.join(n for n in (row['note'], 'float32 error vs float64: TF '
                                                '{:.3g}, ours {:.3g}'.format(tf_error,
                                                                            ours_error)) if n)
    return rows
