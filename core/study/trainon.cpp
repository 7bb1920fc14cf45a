#include "study/trainon.h"

#include <cstdio>
#include <stop_token>
#include <string>

#include <torch/torch.h>

#include "common/atomicfile.h"
#include "common/csvtext.h"
#include "models/model.h"
#include "run/runfolder.h"
#include "train/trainer.h"

namespace ll {
namespace fs = std::filesystem;
using torch::Tensor;

namespace {

// An IDX file of unsigned bytes, as the IDX reader takes it.
Result<void> writeIdx(const fs::path& file, const Tensor& bytes) {
    std::string out{'\0', '\0', '\x08', static_cast<char>(bytes.dim())};
    for (auto d : bytes.sizes())
        for (int shift = 24; shift >= 0; shift -= 8)
            out.push_back(static_cast<char>((d >> shift) & 0xff));
    const Tensor b = bytes.contiguous();
    out.append(reinterpret_cast<const char*>(b.data_ptr<std::uint8_t>()), b.numel());
    return writeFileAtomic(file, out);
}

// Images as IDX bytes (the Trainer reads them back as bytes / 255); returns the images file.
Result<fs::path> writeImages(const Dataset& rows, const fs::path& dir) {
    if (rows.numClasses() > 256)
        return fail("train-on: IDX labels are bytes; " + std::to_string(rows.numClasses()) +
                    " classes do not fit");
    const Tensor x = rows.x.to(torch::kFloat32);
    Tensor images = (x.permute({0, 2, 3, 1}) * 255).round().clamp(0, 255).to(torch::kUInt8);
    if (x.size(1) == 1) images = images.squeeze(3);
    const fs::path file = dir / "train-images-idx3-ubyte";
    if (auto ok = writeIdx(file, images); !ok) return tl::unexpected(ok.error());
    if (auto ok = writeIdx(dir / "train-labels-idx1-ubyte", rows.y.to(torch::kUInt8)); !ok)
        return tl::unexpected(ok.error());
    return file;
}

// A table in original units with the class index last (numbers keep the class order when the
// CSV reader sorts them); returns the file.
Result<fs::path> writeTable(const Dataset& rows, const fs::path& dir) {
    const Tensor original =
        (rows.x.to(torch::kFloat64) * rows.std.to(torch::kFloat64) + rows.mean.to(torch::kFloat64))
            .contiguous();
    const Tensor labels = rows.y.to(torch::kInt64).contiguous();
    std::string text;
    for (std::size_t c = 0; c < rows.featureNames.size(); ++c)
        text += csvCell(rows.featureNames[c]) + ",";
    text += "class\n";
    const auto n = original.size(0), d = original.size(1);
    const double* v = original.data_ptr<double>();
    const std::int64_t* y = labels.data_ptr<std::int64_t>();
    char cell[40];
    for (std::int64_t i = 0; i < n; ++i) {
        for (std::int64_t j = 0; j < d; ++j) {
            std::snprintf(cell, sizeof cell, "%.10g,", v[i * d + j]);
            text += cell;
        }
        text += std::to_string(y[i]) + "\n";
    }
    const fs::path file = dir / "train.csv";
    if (auto ok = writeFileAtomic(file, text); !ok) return tl::unexpected(ok.error());
    return file;
}

}  // namespace

Result<ModelPreset> resolveTrainOn(const TrainOnRequest& r) {
    ModelPreset p;
    if (!r.preset.empty()) {
        const ModelPreset* found = findPreset(r.preset);
        if (!found) return fail("train-on: no preset \"" + r.preset + "\" in the zoo");
        p = *found;
    } else {
        if (!findModel(r.model)) return fail("train-on: no model \"" + r.model + "\" in the zoo");
        p = {.name = "", .model = r.model, .steps = 1000, .learningRate = 1e-3, .batchSize = 128};
    }
    for (const auto& [key, value] : r.settings) p.settings[key] = value;
    if (r.steps > 0) p.steps = r.steps;
    if (r.batch > 0) p.batchSize = r.batch;
    if (r.learningRate > 0) p.learningRate = r.learningRate;
    if (p.steps < 1) return fail("train-on: steps must be at least 1");
    return p;
}

Result<fs::path> trainOn(const Dataset& rows, const TrainOnRequest& r,
                         const TrainOnProgressFn& progress) {
    auto preset = resolveTrainOn(r);
    if (!preset) return tl::unexpected(preset.error());
    if (r.work.empty()) return fail("train-on: no work folder given");
    if (rows.size() < 1) return fail("train-on: no rows to train on");
    const auto counts = rows.classCounts();
    for (std::size_t k = 0; k < counts.size(); ++k)
        if (counts[k] < 1)
            return fail("train-on: class " + rows.classNames[k] +
                        " has no rows; the model would not know it");
    torch::AutoGradMode grad(true);  // a study's loop may run without gradients
    std::error_code ec;
    fs::remove_all(r.work, ec);
    fs::create_directories(r.work / "data", ec);
    if (ec) return fail(r.work.string() + ": cannot create the folder (" + ec.message() + ")");
    const bool tabular = rows.modality == Modality::Tabular;
    auto file = tabular ? writeTable(rows, r.work / "data") : writeImages(rows, r.work / "data");
    if (!file) return tl::unexpected(file.error());

    const fs::path run = r.work / "run";
    const auto steps = preset->steps;
    const int every = r.checkpointEvery > 0 ? r.checkpointEvery : static_cast<int>(steps);
    TrainConfig config{.dataset = {.source = file->string(), .seed = r.seed},
                       .model = preset->model,
                       .preset = preset->name,
                       .settings = preset->settings,
                       .steps = steps,
                       .learningRate = preset->learningRate,
                       .batchSize = preset->batchSize,
                       .seed = r.seed,
                       .threads = r.threads,
                       .logEvery = 10,
                       .sampleEvery = static_cast<int>(steps),
                       .checkpointEvery = every,
                       .runDir = run};
    // The work file writes a category's one-hot features as numbers, in the rows' places:
    // the model is told they are one column's all the same.
    if (tabular && !rows.categorical.empty() &&
        modelInfo(preset->model).defaults.contains("categories") &&
        config.settings["categories"].empty())
        config.settings["categories"] = categoriesSetting(rows.categorical);
    std::stop_source stop;
    Trainer trainer(config, [&](const TrainEvent& event) {
        if (auto* e = std::get_if<TrainProgress>(&event))
            if (progress && !progress(static_cast<double>(e->step) / static_cast<double>(steps)))
                stop.request_stop();
    });
    const TrainFinished done = trainer.run(stop.get_token());
    if (done.outcome == TrainFinished::Outcome::Cancelled) return fail("cancelled");
    if (done.outcome == TrainFinished::Outcome::Failed)
        return fail(preset->model + ": " + done.message);

    // The run reads as trained on the study's rows: their names, not the work file's.
    auto data = readRunData(run);
    if (!data) return tl::unexpected(data.error());
    data->datasetName = rows.name;
    data->classNames = rows.classNames;
    if (data->featureNames == rows.featureNames) {
        data->categorical = rows.categorical;
        data->decimals = rows.decimals;  // the work file's are "%.10g"'s
    } else {
        data->decimals.clear();
    }
    data->decimal = rows.decimal;  // the work file's is "%.10g"'s, not the study's file's
    if (auto ok = writeRunData(run, *data); !ok) return tl::unexpected(ok.error());
    return run;
}

Result<LoadedRun> trainAndLoad(const Dataset& rows, const TrainOnRequest& request,
                               const TrainOnProgressFn& progress) {
    auto run = trainOn(rows, request, progress);
    if (!run) return tl::unexpected(run.error());
    return loadRun(*run);
}

torch::Tensor toRunTable(const Tensor& rows, const Dataset& data, const RunData& run) {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    const Tensor mean = torch::tensor(run.mean, opts), sd = torch::tensor(run.std, opts);
    const Tensor original =
        rows.to(torch::kFloat64) * data.std.to(torch::kFloat64) + data.mean.to(torch::kFloat64);
    return ((original - mean) / sd).to(torch::kFloat32);
}

torch::Tensor fromRunTable(const Tensor& rows, const RunData& run, const Dataset& data) {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    const Tensor mean = torch::tensor(run.mean, opts), sd = torch::tensor(run.std, opts);
    const Tensor original = rows.to(torch::kFloat64) * sd + mean;
    return ((original - data.mean.to(torch::kFloat64)) / data.std.to(torch::kFloat64))
        .to(torch::kFloat32);
}

}  // namespace ll
