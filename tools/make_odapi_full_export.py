"""Build a full-size SSD-MobileNetV2 with the TF Object Detection API, the
standard TF2 model-zoo configuration (``configs/tf2/ssd_mobilenet_v2_320x320_
coco17_tpu-8.config``: ssd_mobilenet_v2_keras, depth multiplier 1.0, min
depth 16, 300x300 fixed-shape resizer, 90 classes, 1x1 box-predictor kernels,
6 anchor layers, sigmoid scores, NMS 0.6 / 100 / 100), random weights, and
export it as a SavedModel (about 55 MB: kept out of git).

Differences from the zoo file, none of which changes the exported network's
structure: the training-only sections (train_config, input readers) are
left out, and the box predictor is initialized with variance scaling and no
-4.6 class bias, so that random logits spread over (0, 1) instead of all
scores sitting at sigmoid(-4.6); the batch norms are calibrated on noise
images as in make_odapi_export.py (see calibrate_batch_norm there).

Runs ONLY in the OD API environment made by make_odapi_export.sh (see that
script and tests/fixtures/README.md); about 5-10 minutes on 2 cores.

Usage: python tools/make_odapi_full_export.py OUT_DIR [--seed 0]
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_odapi_export as common  # noqa: E402

NUM_CLASSES = 90
SIZE = 300

#: The zoo config's model section (see the module doc for the two changes).
PIPELINE = """
model {
  ssd {
    inplace_batchnorm_update: true
    freeze_batchnorm: false
    num_classes: %(num_classes)d
    box_coder {
      faster_rcnn_box_coder { y_scale: 10.0 x_scale: 10.0 height_scale: 5.0 width_scale: 5.0 }
    }
    matcher {
      argmax_matcher {
        matched_threshold: 0.5 unmatched_threshold: 0.5 ignore_thresholds: false
        negatives_lower_than_unmatched: true force_match_for_each_row: true
        use_matmul_gather: true
      }
    }
    similarity_calculator { iou_similarity { } }
    encode_background_as_zeros: true
    anchor_generator {
      ssd_anchor_generator {
        num_layers: 6 min_scale: 0.2 max_scale: 0.95
        aspect_ratios: 1.0 aspect_ratios: 2.0 aspect_ratios: 0.5
        aspect_ratios: 3.0 aspect_ratios: 0.3333
      }
    }
    image_resizer { fixed_shape_resizer { height: %(size)d width: %(size)d } }
    box_predictor {
      convolutional_box_predictor {
        min_depth: 0 max_depth: 0 num_layers_before_predictor: 0
        use_dropout: false dropout_keep_probability: 0.8
        kernel_size: 1 box_code_size: 4 apply_sigmoid_to_scores: false
        conv_hyperparams {
          activation: RELU_6
          regularizer { l2_regularizer { weight: 0.00004 } }
          initializer { variance_scaling_initializer { factor: 1.0 mode: FAN_IN } }
          batch_norm { train: true scale: true center: true decay: 0.97 epsilon: 0.001 }
        }
      }
    }
    feature_extractor {
      type: 'ssd_mobilenet_v2_keras'
      min_depth: 16
      depth_multiplier: 1.0
      conv_hyperparams {
        activation: RELU_6
        regularizer { l2_regularizer { weight: 0.00004 } }
        initializer { truncated_normal_initializer { stddev: 0.03 mean: 0.0 } }
        batch_norm { train: true scale: true center: true decay: 0.97 epsilon: 0.001 }
      }
      override_base_feature_extractor_hyperparams: true
    }
    loss {
      classification_loss { weighted_sigmoid_focal { alpha: 0.75 gamma: 2.0 } }
      localization_loss { weighted_smooth_l1 { delta: 1.0 } }
      classification_weight: 1.0
      localization_weight: 1.0
    }
    normalize_loss_by_num_matches: true
    normalize_loc_loss_by_codesize: true
    post_processing {
      batch_non_max_suppression {
        score_threshold: 1e-8 iou_threshold: 0.6
        max_detections_per_class: 100 max_total_detections: 100
      }
      score_converter: SIGMOID
    }
  }
}
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    common.check_environment()
    config = common.parse_pipeline(PIPELINE % dict(num_classes=NUM_CLASSES, size=SIZE))
    with tempfile.TemporaryDirectory() as ckpt_dir:
        n_params, n_bn = common.save_random_checkpoint(config, ckpt_dir, args.seed, SIZE)
        common.export(config, ckpt_dir, args.out_dir)
    names = ['class{}'.format(i) for i in range(1, NUM_CLASSES + 1)]
    with open(os.path.join(args.out_dir, 'label_map.pbtxt'), 'w') as f:
        f.write(common.label_map_text(names))
    print('exported %s (%d parameters, %d batch norms calibrated, seed %d)'
          % (args.out_dir, n_params, n_bn, args.seed))


if __name__ == '__main__':
    main()
