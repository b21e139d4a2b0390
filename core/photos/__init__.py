"""Photos in: datasets (tf_flowers, a folder, a zip), reading images safely, uploads, the dataset report,
cleaning, and twin photos. The bottom layer beside ``core.models``: no Keras model is built here.
"""

from core.utils.lazy import public_names

__getattr__, __dir__, __all__ = public_names(__name__, {
    "cleaning": ["CleaningError", "highest_losses", "move_to_class", "owns_photos", "photo_probabilities", "remove_photo"],
    "datasets": ["Dataset", "DatasetError", "ImageItem", "SPLITS", "SkippedFile", "TF_FLOWERS", "decode_split", "file_digest", "load_dataset", "load_folder"],
    "images": ["IMAGE_SUFFIXES", "ImageProblem", "MAX_IMAGE_PIXELS", "PEAK_BYTES", "load_array", "looks_like_image", "open_rgb", "thumbnail_jpeg", "upright_size"],
    "own_dataset": ["IN_STUDENT_FOLDER", "AddReport", "OwnDataset", "OwnDatasetError", "class_name_problem", "small_jpeg"],
    "report": ["DatasetReport", "check_folder", "report_to_csv", "skipped_to_csv"],
    "twins": ["THUMB_THRESHOLD", "thumbnail", "thumbnails"],
    "upload": ["UploadError"],
    "upload_area": ["UploadArea"],
    "upload_rules": ["megabytes"],
})
