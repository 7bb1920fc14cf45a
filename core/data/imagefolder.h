#pragma once

#include <filesystem>
#include <vector>

#include "common/error.h"
#include "data/dataset.h"
#include "data/datasetspec.h"

namespace ll {

/// Reads a folder with one sub-folder per class (sorted by name) of PNG, JPEG, BMP, WebP and
/// TIFF images (by what they are inside, as readImageHeader tells), each resized to size x
/// size, as grayscale or RGB, or as the images are: size 0 takes the long side of their most
/// common size (8 to kImageSizeLimit, a multiple of 4), colour FollowData is RGB when any
/// image has colour and grayscale when all are gray. The dataset's note says what was done,
/// and what was left out (files of other formats by extension, class folders without images,
/// images beside the class folders). An unreadable image is reported by name. Without OpenCV
/// in the build this returns an error saying so.
Result<Dataset> readImageFolder(const std::filesystem::path& root, int size, ImageColour colour);

/// One split of an image folder kept in splits (root/train/<class>, root/test/<class>): its
/// classes are those of every split, so that all number them alike, a class missing from one
/// split being a class with no images there; a size that follows the images is chosen by the
/// images of every split. `otherSplits` are the other splits' folders.
Result<Dataset> readImageFolder(const std::filesystem::path& root, int size, ImageColour colour,
                                const std::vector<std::filesystem::path>& otherSplits);

/// What a file manager hides or an archiver leaves behind in a folder of images:
/// ".ipynb_checkpoints", ".DS_Store", "._cat.png" (macOS's resource forks, no image inside),
/// "__MACOSX", Windows' "Thumbs.db" and "desktop.ini" (either case). Never a class, a split or
/// an image, nor counted as left out.
bool isLeftoverEntry(const std::filesystem::path& entry);

/// The same with an explicit size and colour.
Result<Dataset> readImageFolder(const std::filesystem::path& root, int size, bool grayscale);

}  // namespace ll
