"""The 102 cases of the former ``tools/hostile_check.py``, each with the
test(s) that prove it now: ``CASES`` is a list of ``(case name, class,
proofs)``, ``proofs`` a tuple of pytest node ids without parameters (a
parametrized test proves the case when all of its parameters pass).

A case proven already by a test of its reader or command (same input, same
property) is mapped to that test instead of being run twice; the others are
tests of tests/hostile/test_<class>.py named after the case. The table is
checked by tests/hostile/test_case_table.py and read by
``python tools/hostile_check.py``, which runs every proof and counts per class.
"""
A, B, C = 'A untrusted files', 'B run folder', 'C user mistakes'
H = 'tests/hostile/'
UNTRUSTED = 'tests/compare/test_untrusted_inputs.py::'
NPZ = 'tests/test_untrusted_npz.py::'
TRUTH = 'tests/compare/test_run_folder_truth.py::'
ANNOT = 'tests/compare/test_mistakes_annotations.py::'
FILES = 'tests/compare/test_mistakes_files.py::'
BROKEN = 'tests/replicate/test_broken_weights.py::'
IMAGES = 'tests/compare/test_images.py::'
ARCHIVE = UNTRUSTED + 'test_an_archive_with_anything_but_files_under_its_folder_is_refused'
LABELS = UNTRUSTED + 'test_a_broken_label_map_is_one_line'
ENTITIES = UNTRUSTED + 'test_entities_and_deep_nesting_are_refused'
COCO = ANNOT + 'test_malformed_coco_json_names_the_file_and_field'
VOC = ANNOT + 'test_malformed_voc_xml_names_the_file_and_field'
NOT_VOC = ANNOT + 'test_voc_xml_that_is_not_an_annotation'
GIVEN = ANNOT + 'test_given_annotations_are_read_before_any_image_runs'
NOTHING = ANNOT + 'test_nothing_to_evaluate_writes_every_table_and_says_why'
ODD = FILES + 'test_special_files_and_odd_names_are_skipped_with_the_reason'
LIMITS = FILES + 'test_limits_are_enforced_before_anything_runs'
OUT = FILES + 'test_an_out_that_cannot_be_a_run_folder_is_one_line'
NAMES = FILES + 'test_a_name_scoring_would_skip_is_refused'
NOT_RUN = FILES + 'test_score_of_what_is_not_a_run_folder_is_one_line'
META = TRUTH + 'test_a_corrupt_meta_json_is_one_line_and_force_recovers'
RAW = TRUTH + 'test_corrupt_raw_files_are_one_line_and_force_recovers'
FOLDER = TRUTH + 'test_a_folder_where_a_file_belongs_is_one_line'
TABLES = TRUTH + 'test_deleted_images_and_other_detectors_stay_out_of_the_tables'
LOCKED = TRUTH + 'test_a_second_run_is_refused_while_the_first_holds_the_lock'

CASES = [
    # -- A. no code runs from a file we read --------------------------------------------------
    ('npz_pickle_chainercv', A, (NPZ + 'test_the_harness_refuses',)),
    ('npz_pickle_ours', A, (NPZ + 'test_the_harness_refuses',)),
    ('npz_pickle_parity', A, (NPZ + 'test_the_parity_tool_refuses',)),
    ('npz_pickle_trained', A, (NPZ + 'test_the_harness_refuses',)),
    ('plain_pickle_named_npz', A, (H + 'test_untrusted_files.py::test_plain_pickle_named_npz',)),
    ('parity_reference_pickle', A,
     (H + 'test_untrusted_files.py::test_parity_reference_pickle',)),
    ('xml_billion_laughs', A,
     (ENTITIES, UNTRUSTED + 'test_an_unsafe_file_beside_the_images_does_not_stop_the_run')),
    ('xml_external_entity', A, (ENTITIES, GIVEN)),
    ('json_deep_nesting', A, (ENTITIES, GIVEN)),
    ('label_map_not_utf8', A, (LABELS,)),
    ('label_map_huge_id', A, (LABELS,)),
    ('zoo_path_traversal', A, (ARCHIVE,)),
    ('zoo_symlink_outside', A,
     (ARCHIVE, UNTRUSTED + 'test_a_refused_archive_fails_its_detector_only')),
    ('zoo_symlink_inside_then_write', A, (ARCHIVE,)),
    ('zoo_hardlink_outside', A, (ARCHIVE,)),
    ('zoo_device_member', A, (ARCHIVE,)),
    ('frozen_graph_garbage', A, ('tests/compare/test_adapters_tf.py::test_frozen_graph_errors',)),
    ('zoo_absolute_member', A, (ARCHIVE,)),
    ('zoo_member_bomb', A, (UNTRUSTED + 'test_archive_bombs_are_refused_before_extraction',)),
    ('zoo_truncated_archive', A,
     (UNTRUSTED + 'test_a_truncated_archive_or_half_extracted_model_says_what_to_delete',)),
    ('label_map_unclosed', A, (LABELS,)),
    ('odapi_pipeline_config_broken', A,
     (H + 'test_untrusted_files.py::test_odapi_pipeline_config_broken',)),
    ('frozen_graph_nan_constant', A, (UNTRUSTED + 'test_nan_in_a_frozen_graph_fails_its_load',)),
    # -- B. a run folder holds the truth of one run ------------------------------------------
    ('second_folder_same_names', B, (TRUTH + 'test_another_images_folder_is_refused_then_forced',)),
    ('changed_image_content', B,
     (TRUTH + 'test_a_changed_image_is_run_again_and_its_old_record_dropped',)),
    ('timings_of_other_images_reused', B,
     (TRUTH + 'test_timings_are_reused_only_for_the_same_detector_on_the_same_images',)),
    ('kept_outputs_of_a_changed_image', B,
     (TRUTH + 'test_kept_network_outputs_go_with_their_record',)),
    ('kept_outputs_of_two_images_one_file', B,
     (TRUTH + 'test_two_images_never_share_a_kept_output_file',)),
    ('weights_changed_after_other_detector', B,
     (H + 'test_run_folder_state.py::test_weights_changed_after_other_detector',
      TRUTH + 'test_other_weights_after_another_detector_ran_are_refused')),
    ('deleted_image_not_in_tables', B, (TABLES,)),
    ('other_detector_not_in_tables', B, (TABLES,)),
    ('out_inside_images', B, (TRUTH + 'test_an_out_inside_the_images_is_not_read_as_images',)),
    ('two_runs_at_once', B, (TRUTH + 'test_two_processes_at_once_record_each_image_once',)),
    ('stale_lock', B, (TRUTH + 'test_a_stale_lock_is_taken_over',)),
    ('corrupt_meta', B, (META,)),
    ('meta_is_a_folder', B, (FOLDER,)),
    ('corrupt_records', B, (H + 'test_run_folder_state.py::test_corrupt_records',)),
    ('corrupt_timings_and_skipped', B,
     (H + 'test_run_folder_state.py::test_corrupt_timings_and_skipped',)),
    ('force_keeps_results_it_cannot_redo', B,
     (TRUTH + 'test_force_keeps_the_results_of_a_detector_that_cannot_load',)),
    ('exit_status_detector_failed_to_load', B,
     (TRUTH + 'test_force_keeps_the_results_of_a_detector_that_cannot_load',)),
    ('exit_status_no_result', B, (TRUTH + 'test_exit_status_when_no_image_can_be_read',)),
    ('exit_status_failed_midway', B, (TRUTH + 'test_exit_status_of_a_detector_failing_midway',)),
    ('score_while_running', B, (LOCKED,)),
    ('records_without_identity', B, (TRUTH + 'test_records_without_identity_are_not_trusted',)),
    ('identity_corrupt', B, (RAW,)),
    ('meta_wrong_types', B, (META,)),
    ('raw_is_a_file', B, (H + 'test_run_folder_state.py::test_raw_is_a_file',)),
    ('records_file_is_a_folder', B, (FOLDER,)),
    ('lock_is_a_folder', B, (FOLDER,)),
    ('nan_in_saved_record', B, (H + 'test_run_folder_state.py::test_nan_in_saved_record',)),
    ('counts_after_resume_with_deletion', B, (TABLES,)),
    # -- C. every user mistake is one line -----------------------------------------------------
    ('score_negative_images_only', C, (NOTHING,)),
    ('score_classes_nobody_names', C, (NOTHING,)),
    ('score_all_boxes_invalid', C, (NOTHING,)),
    ('coco_bbox_three_values', C, (COCO, GIVEN)),
    ('coco_bbox_null', C, (COCO, GIVEN)),
    ('coco_images_null', C, (COCO, GIVEN)),
    ('coco_missing_file_name', C, (COCO, GIVEN)),
    ('coco_ids_do_not_match', C, (COCO, GIVEN)),
    ('coco_height_text', C, (COCO, GIVEN)),
    ('coco_top_level_list', C,
     (H + 'test_user_mistakes.py::test_given_annotation_file_is_one_line',)),
    ('voc_xml_bad_number', C, (VOC, GIVEN)),
    ('voc_xml_truncated', C, (NOT_VOC, GIVEN)),
    ('broken_annotation_beside_images', C,
     (ANNOT + 'test_a_broken_file_beside_the_images_costs_only_the_map_tables',)),
    ('annotations_none', C, (ANNOT + 'test_annotations_none_looks_nothing_up',)),
    ('non_utf8_file_name', C, (ODD,)),
    ('named_pipe_image', C, (ODD,)),
    ('device_symlink_image', C, (ODD,)),
    ('directory_named_like_image', C, (ODD,)),
    ('symlink_loops', C, (ODD,)),
    ('huge_batch_size', C, (LIMITS,)),
    ('huge_repeats', C, (LIMITS,)),
    ('xml_200000_boxes', C, (H + 'test_user_mistakes.py::test_given_annotation_file_is_one_line',
                             (UNTRUSTED +
                              'test_annotation_files_over_the_limits_are_refused_unread'))),
    ('half_downloaded_cached_weights', C,
     (BROKEN + 'test_a_half_downloaded_cached_file_says_to_delete_it',
      BROKEN + 'test_the_harness_names_the_cached_file_to_delete')),
    ('nan_weights', C, (BROKEN + 'test_nan_or_inf_in_a_weight_file_is_refused',)),
    ('read_only_out', C, (FILES + 'test_a_read_only_out_is_one_line',)),
    ('out_is_a_file', C, (OUT,)),
    ('out_under_a_file', C, (OUT,)),
    ('dot_detector_name', C, (NAMES,)),
    ('reserved_detector_name', C, (NAMES,)),
    ('long_detector_name', C, (NAMES,)),
    ('score_missing_folder', C, (NOT_RUN,)),
    ('score_a_file', C, (NOT_RUN,)),
    ('score_bad_annotations', C,
     (ANNOT + 'test_rescoring_with_broken_annotations_is_refused_before_anything_changes',)),
    ('float_image', C, (IMAGES + 'test_float_images_are_refused',)),
    ('images_folder_unreadable', C,
     (H + 'test_user_mistakes.py::test_images_folder_unreadable',)),
    ('interrupted_then_sigterm', C, (H + 'test_user_mistakes.py::test_interrupted_then_sigterm',)),
    ('annotations_folder_without_xml', C,
     (H + 'test_user_mistakes.py::test_annotations_folder_without_xml',)),
    ('voc_xml_wrong_root', C, (NOT_VOC, GIVEN)),
    ('voc_xml_bad_encoding', C, (NOT_VOC, GIVEN)),
    ('coco_json_not_utf8', C,
     (H + 'test_user_mistakes.py::test_given_annotation_file_is_one_line',)),
    ('coco_bbox_strings', C, (COCO, GIVEN)),
    ('coco_bbox_infinite', C,
     (H + 'test_user_mistakes.py::test_given_annotation_file_is_one_line',)),
    ('coco_duplicate_image_id', C, (COCO, GIVEN)),
    ('zero_byte_and_bomb_images', C,
     (H + 'test_user_mistakes.py::test_zero_byte_and_bomb_images',)),
    ('bad_numbers_on_the_command_line', C,
     (H + 'test_user_mistakes.py::test_bad_numbers_on_the_command_line', LIMITS)),
    ('images_argument_is_a_file', C,
     (H + 'test_user_mistakes.py::test_images_argument_is_a_file',)),
    ('out_is_the_images_folder', C, (OUT,)),
    ('zoo_dir_is_a_file', C, (H + 'test_user_mistakes.py::test_zoo_dir_is_a_file',)),
    ('duplicate_names_by_case', C, (FILES + 'test_names_equal_but_for_case_are_refused',)),
    ('parity_bad_arguments', C, (H + 'test_user_mistakes.py::test_parity_bad_arguments',)),
    ('python_api_nan_image', C, (BROKEN + 'test_nan_in_an_image_given_to_predict_is_refused',)),
]
