"""Run profiles: the one place where ``quick`` and ``full`` settings live.

``quick`` is what CI runs (every notebook in about a minute on two cores);
``full`` follows the paper's protocol. Notebooks read their settings with
:func:`settings` and never copy these numbers. A notebook parameter left at
``None`` takes the profile's value; any other value overrides it.

Each chapter key is the notebook stem without its ``NN-`` prefix.
"""

from __future__ import annotations

from copy import deepcopy

from wiloc_core.errors import ParameterError

PROFILE_NAMES = ("quick", "full", "paper")
#: Parameters that change how fast a run goes, never what it computes: not overrides.
EXECUTION_PARAMETERS = ("seed", "profile", "n_jobs", "scheduler", "torch_threads", "resume", "progress")

_PRESETS: dict[str, dict[str, dict]] = {
    "fingerprint-datasets": {
        "quick": {
            "datasets": ["UJI1", "TUT3", "TUT5", "LIB1", "UTS"],
            "knn_targets": ["UJI1", "TUT3"],
            # The former bar, shown beside the chosen configuration: this distance on the
            # positive representation with the -110 dBm floor.
            "metric": "euclidean",
            # The grid the bar is chosen from (wiloc_core.methods.knn.select_configuration).
            "representations": ["positive", "exponential", "powed"],
            "distances": ["euclidean", "manhattan", "sorensen", "squared_chord"],
            # UJIIndoorLoc has ~20k training rows: a subsample keeps CI under a minute.
            "max_train_samples": 4000,
            "k_candidates": [1, 3, 5, 7, 9, 11, 13, 15],
            "validation_fraction": 0.2,
        },
        "full": {
            "datasets": ["UJI1", "TUT3", "TUT5", "LIB1", "UTS"],
            "knn_targets": ["UJI1", "TUT3"],
            "metric": "euclidean",
            "representations": ["positive", "exponential", "powed"],
            "distances": ["euclidean", "manhattan", "sorensen", "squared_chord"],
            "max_train_samples": None,
            "k_candidates": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 20, 25],
            "validation_fraction": 0.2,
        },
    },
    "radio-channel": {
        # snr_db: VNA SNR per frequency point; dynamic_range_db: PDP cut for the delay spread.
        "quick": {"n_sweeps": 3, "max_reflection_order": 2, "n_displacements": 25,
                  "snr_db": 30.0, "dynamic_range_db": -20.0, "explorer_preset": "laboratory"},
        "full": {"n_sweeps": 10, "max_reflection_order": 3, "n_displacements": 60,
                 "snr_db": 30.0, "dynamic_range_db": -20.0, "explorer_preset": "laboratory"},
    },
    # --- notebooks/02-*: block owned by the radio-calibration chapter ---
    # n_links: receivers per preset for delay spread / K / slope; fit grids of the RTT
    # sensor (wiloc_core.sim.rtt_rooms.fit_rtt_sensor); n_scans: simulated scans per
    # reference point and AP.
    "radio-calibration": {
        "quick": {"n_links": 80, "max_reflection_order": 2, "bandwidths_mhz": [80.0],
                  "nlos_losses_db": [18.0, 30.0], "diffuse_scales": [1.0, 0.5],
                  "noise_stds_m": [0.2, 0.6], "fail_rss_dbm": [-90.0, -100.0], "n_scans": 6},
        "full": {"n_links": 300, "max_reflection_order": 2, "bandwidths_mhz": [40.0, 80.0],
                 "nlos_losses_db": [12.0, 18.0, 24.0, 30.0, 40.0],
                 "diffuse_scales": [1.0, 0.5, 0.25, 0.1], "noise_stds_m": [0.2, 0.5, 0.8, 1.1],
                 "fail_rss_dbm": [-90.0, -95.0, -100.0], "n_scans": 10},
    },
    # --- end notebooks/02-* ---
    # --- paper 000 (notebooks/10-*): block owned by the CTF-transfer chapter ---
    "ctf-transfer": {
        # Quick: 2 sweeps per position, a few epochs, one seed, fewer sizes; the CNN
        # is far from converged, so quick numbers show the pipeline, not the paper.
        "quick": {
            "n_sweeps": 2,                       # VNA sweeps per grid position (paper: 10)
            "epochs": 4,
            "min_steps": 16,                     # floor on gradient steps for tiny sets
            "batch_size": 32,
            "lr": 2e-3,
            "n_seeds": 1,
            "table1_fractions": [0.75, 0.10],
            "table2_fractions": [0.10, 0.025],
            "fig4_fractions": [0.10, 0.40],
            "k_multiples": [1, 2],               # k = multiple x number of labelled sweeps
            "matrix_fraction": 0.0,              # 0: skip the target x source matrix
            "position_split_fractions": [0.75, 0.10],
            "environments": ["Lab", "Narrow Corridor", "Lobby", "Sports Hall"],
            "target_env": "Lab",                 # Fig. 4 target (paper: Lab)
            "source_env": "Lobby",               # Fig. 4 source (paper: Lobby)
            # Table II source per target: the paper names none (ours)
            "sources": {"Lab": "Lobby", "Narrow Corridor": "Lab", "Lobby": "Lab",
                        "Sports Hall": "Lobby"},
        },
        "full": {
            "n_sweeps": 10,
            "epochs": 40,
            "min_steps": 300,
            "batch_size": 32,
            "lr": 1e-3,
            "n_seeds": 3,
            "table1_fractions": [0.75, 0.50, 0.30, 0.10],
            "table2_fractions": [0.15, 0.10, 0.05, 0.025],
            "fig4_fractions": [0.025, 0.05, 0.10, 0.15, 0.30, 0.40, 0.50, 0.60],
            "k_multiples": [1, 2, 4],
            "matrix_fraction": 0.10,
            "position_split_fractions": [0.75, 0.10],
            "environments": ["Lab", "Narrow Corridor", "Lobby", "Sports Hall"],
            "target_env": "Lab",                 # Fig. 4 target (paper: Lab)
            "source_env": "Lobby",               # Fig. 4 source (paper: Lobby)
            # Table II source per target: the paper names none (ours)
            "sources": {"Lab": "Lobby", "Narrow Corridor": "Lab", "Lobby": "Lab",
                        "Sports Hall": "Lobby"},
        },
    },
    # --- end paper 000 ---
    # --- paper 001 (notebooks/20-*): block owned by the surrogate-teacher chapter ---
    # Paper 001 §4.1: Adam, batch 128; epochs/lr UJI 500 @ 1e-3, Tampere 2000 @ 1e-3,
    # UTS 400 @ 1e-4. TUT5 and LIB1 are not in the paper: treated like Tampere [I].
    # Every profile builds the four networks at the sizes of our reconstruction
    # (wiloc_core.models.fingerprint_nets defaults).
    # quick: only the DNN (the other three networks cost 6-40x more per step on a CPU),
    # UJI1 subsampled, epochs cut 25-40x, 1 critic step, no (*)/(**) baselines.
    # full: the protocol that fits two CPU cores (over several sittings, resumed from the
    # cache): the paper's epochs as a cap with early stopping on held-out reference
    # points; three seeds for the DNN and CNNLoc, one for BayesCNN and bAaT; (*)/(**)
    # for the DNN and CNNLoc only.
    # paper: the paper's protocol as printed (fixed epochs on every training row, all
    # variants of all four networks), for a GPU or a cluster; three seeds each.
    "surrogate-teachers": {
        "quick": {
            "targets": ["UJI1", "TUT3"],
            "sources": {"UJI1": ["TUT3", "UTS"], "TUT3": ["UJI1", "UTS"]},
            "models": ["DNN"],
            "max_train_samples": {"UJI1": 1500},
            "epochs": {"UJI1": 20, "TUT3": 50, "UTS": 50, "TUT5": 50, "LIB1": 50},
            "lr": {"UJI1": 1e-3, "TUT3": 1e-3, "UTS": 1e-3, "TUT5": 1e-3, "LIB1": 1e-3},
            "batch_size": 128,
            # early stopping: share of each network's training rows held out, and epochs
            # without a better validation error before training stops (one number, or
            # one per dataset; epochs: the cap; None: no early stopping)
            "val_fraction": 0.1,
            "patience": 5,
            "seeds": {"DNN": 1},                 # seeds per model (missing: 1)
            "critic_steps": 1,
            "gp_weight": 10.0,
            "lambdas": [3.0, 0.5, 0.5, 0.5],
            "power_iters": 10,
            "n_common": 256,
            "net_sizes": None,
            # what the surrogate teachers read besides noise: "position" (the sample's
            # normalised position; our reading) or "noise" (Alg. 2's G_i(Noise))
            "teacher_input": "position",
            # Table 1 variants: one list for every model, or one per model
            "variants": ["standalone", "+++"],
        },
        "full": {
            "targets": ["UJI1", "TUT3"],
            "sources": {"UJI1": ["TUT3", "UTS"], "TUT3": ["UJI1", "UTS"]},
            # cheapest first: an interrupted run has finished the first models
            "models": ["DNN", "CNNLoc", "BayesCNN", "bAaT"],
            "max_train_samples": {},
            "epochs": {"UJI1": 500, "TUT3": 2000, "UTS": 400, "TUT5": 2000, "LIB1": 2000},
            "lr": {"UJI1": 1e-3, "TUT3": 1e-3, "UTS": 1e-4, "TUT5": 1e-3, "LIB1": 1e-3},
            "batch_size": 128,
            "val_fraction": 0.1,
            # about 2,000-3,000 gradient steps without improvement on every dataset
            # (an epoch is 140 steps on UJI1, 64 on UTS, 5 on TUT3)
            "patience": {"UJI1": 20, "UTS": 40, "TUT3": 400, "TUT5": 400, "LIB1": 400},
            "seeds": {"DNN": 3, "CNNLoc": 3, "BayesCNN": 1, "bAaT": 1},
            "critic_steps": 5,
            "gp_weight": 10.0,
            "lambdas": [3.0, 0.5, 0.5, 0.5],
            "power_iters": 10,
            "n_common": 256,
            "net_sizes": None,
            "teacher_input": "position",
            "variants": {"DNN": ["standalone", "+++", "*", "**"],
                         "CNNLoc": ["standalone", "+++", "*", "**"],
                         "BayesCNN": ["standalone", "+++"], "bAaT": ["standalone", "+++"]},
        },
        "paper": {
            "targets": ["UJI1", "TUT3"],
            "sources": {"UJI1": ["TUT3", "UTS"], "TUT3": ["UJI1", "UTS"]},
            "models": ["DNN", "CNNLoc", "BayesCNN", "bAaT"],
            "max_train_samples": {},
            "epochs": {"UJI1": 500, "TUT3": 2000, "UTS": 400, "TUT5": 2000, "LIB1": 2000},
            "lr": {"UJI1": 1e-3, "TUT3": 1e-3, "UTS": 1e-4, "TUT5": 1e-3, "LIB1": 1e-3},
            "batch_size": 128,
            "val_fraction": 0.0,                 # every training row, fixed epochs (§4.1)
            "patience": None,
            "seeds": 3,
            "critic_steps": 5,
            "gp_weight": 10.0,
            "lambdas": [3.0, 0.5, 0.5, 0.5],
            "power_iters": 10,
            "n_common": 256,
            "net_sizes": None,
            "teacher_input": "position",
            "variants": ["standalone", "+++", "*", "**"],
        },
    },
    # Tables 2-4 (notebooks/21-*): same optimiser settings; quick trains the DNN only,
    # UJI1 subsampled to 1000 rows, epochs cut 20-100x, 2 rounds for Table 4 (paper: 10).
    # full: the DNN and CNNLoc (BayesCNN and bAaT cost 4-15x more per step on a CPU),
    # early stopping as in chapter 20, the paper's 10 rounds; paper: all four networks.
    "surrogate-ablations": {
        "quick": {
            "targets": ["UJI1", "TUT3"],
            "sources": {"UJI1": ["TUT3", "UTS"], "TUT3": ["UJI1", "UTS"]},
            "models": ["DNN"],
            "max_train_samples": {"UJI1": 1000},
            "epochs": {"UJI1": 8, "TUT3": 20, "UTS": 20, "TUT5": 20, "LIB1": 20},
            "lr": {"UJI1": 1e-3, "TUT3": 1e-3, "UTS": 1e-3, "TUT5": 1e-3, "LIB1": 1e-3},
            "batch_size": 128,
            "val_fraction": 0.1,
            "patience": 5,
            "critic_steps": 1,
            "gp_weight": 10.0,
            "lambdas": [3.0, 0.5, 0.5, 0.5],
            "power_iters": 10,
            "n_common": 256,
            "net_sizes": None,
            "teacher_input": "position",
            "fraction_cases": [["UJI1", 0.01], ["UJI1", 0.1], ["TUT3", 0.1]],
            "fraction_rounds": 2,
            # Sources the paper did not have (Table 3 "more sources"), ~10 s on two cores.
            "extra_sources": ["TUT5", "LIB1"],
        },
        "full": {
            "targets": ["UJI1", "TUT3"],
            "sources": {"UJI1": ["TUT3", "UTS"], "TUT3": ["UJI1", "UTS"]},
            "models": ["DNN", "CNNLoc"],
            "max_train_samples": {},
            "epochs": {"UJI1": 500, "TUT3": 2000, "UTS": 400, "TUT5": 2000, "LIB1": 2000},
            "lr": {"UJI1": 1e-3, "TUT3": 1e-3, "UTS": 1e-4, "TUT5": 1e-3, "LIB1": 1e-3},
            "batch_size": 128,
            "val_fraction": 0.1,
            "patience": {"UJI1": 20, "UTS": 40, "TUT3": 400, "TUT5": 400, "LIB1": 400},
            "critic_steps": 5,
            "gp_weight": 10.0,
            "lambdas": [3.0, 0.5, 0.5, 0.5],
            "power_iters": 10,
            "n_common": 256,
            "net_sizes": None,
            "teacher_input": "position",
            "fraction_cases": [["UJI1", 0.01], ["UJI1", 0.1], ["TUT3", 0.1]],
            "fraction_rounds": 10,
            "extra_sources": ["TUT5", "LIB1"],
        },
        "paper": {
            "targets": ["UJI1", "TUT3"],
            "sources": {"UJI1": ["TUT3", "UTS"], "TUT3": ["UJI1", "UTS"]},
            "models": ["DNN", "CNNLoc", "BayesCNN", "bAaT"],
            "max_train_samples": {},
            "epochs": {"UJI1": 500, "TUT3": 2000, "UTS": 400, "TUT5": 2000, "LIB1": 2000},
            "lr": {"UJI1": 1e-3, "TUT3": 1e-3, "UTS": 1e-4, "TUT5": 1e-3, "LIB1": 1e-3},
            "batch_size": 128,
            "val_fraction": 0.0,
            "patience": None,
            "critic_steps": 5,
            "gp_weight": 10.0,
            "lambdas": [3.0, 0.5, 0.5, 0.5],
            "power_iters": 10,
            "n_common": 256,
            "net_sizes": None,
            "teacher_input": "position",
            "fraction_cases": [["UJI1", 0.01], ["UJI1", 0.1], ["TUT3", 0.1]],
            "fraction_rounds": 10,
            "extra_sources": ["TUT5", "LIB1"],
        },
    },
    # --- end paper 001 ---
    # --- paper 004 (notebooks/50-*): block owned by the WTN chapter ---
    # Paper 004 §4: 3000 epochs, recurrent width swept 64 ... 1024 (1024 kept), 4 APs,
    # 1170 positions x 200 measurements, split 6.4 : 1.6 : 2. Optimiser, batch, hidden
    # width and cell type are not given (ours: Adam, batch 32, 128 hidden units, Elman RNN).
    # quick: narrow RNN, few epochs, 10 scan steps per simulated position, one seed.
    "wifi-trilateration-net": {
        "quick": {
            "rooms": ["lecture_theatre", "office", "corridor", "wtn-room"],
            "width": 64,                 # recurrent width of Table 1's WTN (paper: 1024)
            "widths": [16, 64],          # Fig. 7 sweep (paper: 64 ... 1024)
            "sweep_room": "lecture_theatre",
            "hidden": 128,               # positioning network's hidden layer (ours)
            "epochs": 25,                # paper: 3000
            "lr": 3e-3,
            "batch_size": 32,
            "patience": None,            # train to the cap, keep the best validation epoch
            "min_steps": 150,            # gradient steps at least (tiny 10 % training sets)
            "n_seeds": 1,
            "seq_len_real": 6,           # scan steps per sequence: 60 rows / 10 per step
            "seq_len_sim": 10,
            "draws": 3,                  # random regroupings of each real training point
            "val_fraction": 0.2,         # real rooms: 1.6 / (6.4 + 1.6) of training points
            "sim_steps": 10,             # scan steps per simulated position (paper: 200)
            "sim_max_order": 1,
            "knn_k": [1, 3, 5, 9, 15],
            "knn_rss_weights": [0.0, 0.5, 1.0],
            "finetune_rooms": ["lecture_theatre"],
            "finetune_fraction": 0.1,
            "finetune_epochs": 25,
        },
        "full": {
            # what fits two shared CPU cores in about 10 minutes: a narrower RNN and
            # 150 epochs, three seeds (the paper's widths and epochs: profile "paper")
            "rooms": ["lecture_theatre", "office", "corridor", "wtn-room"],
            "width": 64,
            "widths": [16, 32, 64, 128],
            "sweep_room": "lecture_theatre",
            "hidden": 128,
            "epochs": 150,
            "lr": 3e-3,
            "batch_size": 32,
            "patience": None,
            "min_steps": 600,
            "n_seeds": 3,
            "seq_len_real": 6,
            "seq_len_sim": 10,
            "draws": 4,
            "val_fraction": 0.2,
            "sim_steps": 10,
            "sim_max_order": 2,
            "knn_k": [1, 3, 5, 7, 9, 11, 15, 21],
            "knn_rss_weights": [0.0, 0.25, 0.5, 1.0],
            "finetune_rooms": ["lecture_theatre", "office", "corridor"],
            "finetune_fraction": 0.1,
            "finetune_epochs": 150,
        },
        "paper": {
            "rooms": ["lecture_theatre", "office", "corridor", "wtn-room"],
            "width": 1024,
            "widths": [64, 128, 256, 512, 1024],
            "sweep_room": "lecture_theatre",
            "hidden": 128,
            "epochs": 3000,
            "lr": 1e-3,
            "batch_size": 32,
            "patience": None,
            "min_steps": 1500,
            "n_seeds": 3,
            "seq_len_real": 6,
            "seq_len_sim": 10,
            "draws": 4,
            "val_fraction": 0.2,
            "sim_steps": 200,
            "sim_max_order": 2,
            "knn_k": [1, 3, 5, 7, 9, 11, 15, 21],
            "knn_rss_weights": [0.0, 0.25, 0.5, 1.0],
            "finetune_rooms": ["lecture_theatre", "office", "corridor"],
            "finetune_fraction": 0.1,
            "finetune_epochs": 3000,
        },
    },
    # --- end paper 004 ---
    # --- paper 002 (LoFi): notebooks/30-* ---
    # duration_s: the simulated walk (paper: 5 min per volunteer); frame_rate_hz: webcam
    # (paper 26 Hz); detector: the person detector of eq. 1 for the labels ("hog", "haar",
    # "yolo" with yolo_weights, "background"); label_view: the view whose labels train
    # the networks (ours); view_clip_s: seconds labelled from every view for the per-view
    # label error; detectors / detector_clip_s / detector_views: the detector comparison
    # (first views only); misclick_px: reference-click errors; holdout_*: packets hidden
    # to score eq. 4 filling; fill_method: how lost packets are filled; window / stride /
    # train_fraction: windows and the time split (authors: 100 frames, 90/10); models,
    # model_kw, epochs, n_seeds: Table II trainings; truth_models: networks also trained
    # on the true positions (ours).
    "lofi-vision-labels": {
        "quick": {
            "duration_s": 16.0, "frame_rate_hz": 26.0, "detector": "hog", "yolo_weights": None,
            "label_view": "front-left", "view_clip_s": 1.5,
            "detectors": ["hog", "haar", "yolo", "background"], "detector_clip_s": 0.5,
            "detector_views": 1, "misclick_px": [2.0, 5.0, 10.0],
            "holdout_bursts": [1, 3, 10], "holdout_gaps": 20, "fill_method": "pchip",
            "window": 100, "stride": 10, "train_fraction": 0.9,
            "models": ["cnn", "resnet18", "rnn", "gru", "lstm", "csi-bert"],
            "model_kw": {"rnn": {"hidden": 16, "layers": 1}, "gru": {"hidden": 16, "layers": 1},
                         "lstm": {"hidden": 16, "layers": 1},
                         "csi-bert": {"hidden": 32, "layers": 1, "heads": 2,
                                      "intermediate": 64}},
            "epochs": 2, "patience": None, "n_seeds": 1, "truth_models": ["cnn", "gru"],
            "grad_clip": 3.0, "fill_compare": ["received", "linear", "pchip"],
            "fill_models": ["cnn"],
        },
        "full": {
            # cuts for two CPU cores (about an hour): one 5-minute walk (the paper has seven
            # volunteers), windows every 50 frames, 20 epochs, three seeds, the paper's
            # network sizes except CSI-BERT with 3 of its 6 layers; the truth-trained
            # twins for the four small networks only.
            "duration_s": 300.0, "frame_rate_hz": 26.0, "detector": "hog", "yolo_weights": None,
            "label_view": "front-left", "view_clip_s": 20.0,
            "detectors": ["hog", "haar", "yolo", "background"], "detector_clip_s": 5.0,
            "detector_views": 3, "misclick_px": [1.0, 2.0, 5.0, 10.0, 20.0],
            "holdout_bursts": [1, 2, 3, 5, 10, 20], "holdout_gaps": 100, "fill_method": "pchip",
            "window": 100, "stride": 50, "train_fraction": 0.9,
            "models": ["cnn", "resnet18", "rnn", "gru", "lstm", "csi-bert"],
            "model_kw": {"csi-bert": {"layers": 3}}, "epochs": 20, "patience": None,
            "n_seeds": 3,
            "truth_models": ["cnn", "rnn", "gru", "lstm"],
            "grad_clip": 3.0, "fill_compare": ["received", "linear", "pchip"],
            "fill_models": ["cnn", "gru"],
        },
        "paper": {
            # the paper's protocol: 200 epochs, every window start, every network twice.
            "duration_s": 300.0, "frame_rate_hz": 26.0, "detector": "hog", "yolo_weights": None,
            "label_view": "front-left", "view_clip_s": 60.0,
            "detectors": ["hog", "haar", "yolo", "background"], "detector_clip_s": 20.0,
            "detector_views": 3, "misclick_px": [1.0, 2.0, 5.0, 10.0, 20.0],
            "holdout_bursts": [1, 2, 3, 5, 10, 20], "holdout_gaps": 200, "fill_method": "pchip",
            "window": 100, "stride": 1, "train_fraction": 0.9,
            "models": ["cnn", "resnet18", "rnn", "gru", "lstm", "csi-bert"],
            "model_kw": {}, "epochs": 200, "patience": None, "n_seeds": 3,
            "truth_models": ["cnn", "resnet18", "rnn", "gru", "lstm", "csi-bert"],
            "grad_clip": 3.0, "fill_compare": ["received", "linear", "pchip"],
            "fill_models": ["cnn", "resnet18", "gru", "lstm", "csi-bert"],
        },
    },
    # --- end paper 002 ---
    # --- paper 003 (EVAL): notebooks/40-* ---
    # n_train / n_test: packets per class (paper: 4000 / 1000); betas: Fig. 6 sweep of the
    # calibration parameter; window: N_P, packets the calibration averages (lost from the
    # paper's text; ours); n_seeds: DNN trainings per number (paper Fig. 6: 50);
    # classic_max_train: training packets per class for methods whose cost grows
    # faster than the data; calibration_form: the reading of eq. 24 ("mix" or
    # "moving_average", wiloc_core.phy.calibrate); classic_seeds: seeds of the seeded baselines (tree, forest);
    # sweep_*: packets per class of the beta and N_P sweeps (the first of the main
    # recording); snr_*: packets per class of the SNR sweep (new recordings, ours).
    "eval-error-vector-spectrum": {
        "quick": {
            "n_train": 60, "n_test": 20, "snr_db": 25.0,
            "beta_amplitude": 4.0, "beta_phase": 6.0, "window": 20, "calibration_form": "mix",
            "betas": [0.0, 4.0, 6.0, 16.0],
            "n_seeds": 1,
            "epochs": 40, "lr": 1e-3, "batch_size": 64, "patience": 8, "val_fraction": 0.1,
            "eval_feature": "evs_phase",
            "classic_methods": ["lr", "dt", "rf", "svm", "knn", "nb"],
            "classic_features": ["csi_amplitude", "csi_phase", "evs_phase"],
            "classic_max_train": {},
            "classic_seeds": 1,
            "windows": [1, 20],
            "snrs_db": [10.0, 25.0],
            "sweep_n_train": 60, "sweep_n_test": 20, "snr_n_train": 40, "snr_n_test": 20,
            "spectra_packets": 60,
        },
        "full": {
            # the paper's packet counts for Figs. 7 and 8; three trainings per number
            # instead of 50 (two for the tree and forest); a DNN trained with batches of
            # 512 and early stopping; the beta sweep of Fig. 6 on the first 1000 / 250
            # packets of each class; the SVM on the first 1000 training packets per class.
            "n_train": 4000, "n_test": 1000, "snr_db": 25.0,
            "beta_amplitude": 4.0, "beta_phase": 6.0, "window": 100, "calibration_form": "mix",
            "betas": [0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 16.0, 64.0],
            "n_seeds": 3,
            "epochs": 60, "lr": 2e-3, "batch_size": 512, "patience": 6, "val_fraction": 0.1,
            "eval_feature": "evs_phase",
            "classic_methods": ["lr", "dt", "rf", "svm", "knn", "nb"],
            "classic_features": ["csi_amplitude", "csi_phase", "evs_amplitude", "evs_phase"],
            "classic_max_train": {"svm": 1000},
            "classic_seeds": 2,
            "windows": [1, 2, 5, 10, 20, 50, 100, 200],
            "snrs_db": [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0],
            "sweep_n_train": 1000, "sweep_n_test": 250, "snr_n_train": 300, "snr_n_test": 100,
            "spectra_packets": 200,
        },
        "paper": {
            # Fig. 6's 50 training runs per point, every method on every packet.
            "n_train": 4000, "n_test": 1000, "snr_db": 25.0,
            "beta_amplitude": 4.0, "beta_phase": 6.0, "window": 100, "calibration_form": "mix",
            "betas": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 16.0, 64.0],
            "n_seeds": 50,
            "epochs": 200, "lr": 1e-3, "batch_size": 64, "patience": 15, "val_fraction": 0.1,
            "eval_feature": "evs_phase",
            "classic_methods": ["lr", "dt", "rf", "svm", "knn", "nb"],
            "classic_features": ["csi_amplitude", "csi_phase", "evs_amplitude", "evs_phase"],
            "classic_max_train": {},
            "classic_seeds": 50,
            "windows": [1, 2, 5, 10, 20, 50, 100, 200, 500],
            "snrs_db": [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0],
            "sweep_n_train": 4000, "sweep_n_test": 1000, "snr_n_train": 4000, "snr_n_test": 1000,
            "spectra_packets": 200,
        },
    },
    # --- end paper 003 ---
}


def chapters() -> list[str]:
    """Chapters that have presets."""
    return sorted(_PRESETS)


def settings(chapter: str, profile: str, **overrides) -> dict:
    """The settings of ``chapter`` under ``profile``, with non-None overrides applied.

    Parameters
    ----------
    chapter : str
        Chapter key, e.g. ``"fingerprint-datasets"``.
    profile : {"quick", "full", "paper"}
        ``paper`` exists only for chapters that define it (the paper's protocol as
        printed, for a GPU or a cluster).
    **overrides
        Values a reader set in the notebook's parameters cell; ``None`` means
        "use the profile's value". An override naming no known setting is an error,
        which catches typos in parameter names.

    Returns
    -------
    dict
        A fresh copy, safe to modify, with ``profile`` (the profile asked for) and
        ``overrides`` (name -> ``{"preset", "run"}`` for every setting whose value
        differs from the preset) added. A run with any override is a *custom* run
        (:func:`run_label`): labelled so, never judged, never committed as ``full``.
    """
    if profile not in PROFILE_NAMES:
        raise ParameterError("profile", f"one of {PROFILE_NAMES}", profile)
    if chapter not in _PRESETS:
        raise ParameterError("chapter", f"one of {chapters()}", chapter)
    if profile not in _PRESETS[chapter]:
        raise ParameterError("profile", f"a profile of chapter '{chapter}': {sorted(_PRESETS[chapter])}",
                             profile)
    preset = _PRESETS[chapter][profile]
    values = deepcopy(preset)
    changed = {}
    for name, value in overrides.items():
        if name not in values:
            raise ParameterError(name, f"a setting of chapter '{chapter}': {sorted(values)}")
        if value is not None:
            values[name] = value
            if _normalised(value) != _normalised(preset[name]):
                changed[name] = {"preset": deepcopy(preset[name]), "run": deepcopy(value)}
    values["profile"] = profile
    values["overrides"] = changed
    return values


def _normalised(value):
    """Compare settings by value: tuples as lists, ints as floats (1 == 1.0)."""
    if isinstance(value, (list, tuple)):
        return [_normalised(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def run_label(cfg: dict) -> str:
    """``"custom"`` when ``cfg`` (from :func:`settings`) has overrides, else its profile."""
    return "custom" if cfg.get("overrides") else cfg["profile"]
