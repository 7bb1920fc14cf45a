// export-weights and import-weights end to end: a trained run's weights as safetensors, read by
// an independent parser (Debian's Python with json, struct and numpy), imported back into a run
// that samples exactly as the original, and broken files refused.
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "clirun.h"
#include "common/atomicfile.h"
#include "common/safetensors.h"
#include "common/sha256.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using ll::testing::cli;
using ll::testing::Outcome;
using ll::testing::shell;

fs::path scratch() {
    static const fs::path dir = ll::testing::scratchFolder("weights");
    return dir;
}

std::string bytesOf(const fs::path& p) {
    auto r = ll::readFile(p);
    return r ? *r : std::string();
}

// The independent reader: the system's Python, nothing but json, struct and numpy. It checks
// the layout the spec asks for and prints the metadata, the names and one tensor's values.
constexpr const char* kReader = R"PY(
import json, struct, sys
import numpy as np
path, name = sys.argv[1], sys.argv[2]
raw = open(path, 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
assert (8 + n) % 8 == 0, 'data does not start at a multiple of 8'
header = json.loads(raw[8:8 + n].decode('utf-8'))
meta = header.pop('__metadata__')
assert all(isinstance(v, str) for v in meta.values()), 'metadata values must be strings'
types = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2',
         'I8': '<i1', 'U8': '<u1', 'BOOL': '<u1'}
data = raw[8 + n:]
spans = []
for key, t in header.items():
    begin, end = t['data_offsets']
    size = np.dtype(types[t['dtype']]).itemsize
    assert int(np.prod(t['shape'], dtype=np.int64)) * size == end - begin, key
    assert begin % size == 0, key + ' is not aligned to its elements'
    spans.append((begin, end))
covered = 0
for begin, end in sorted(spans):
    assert begin == covered, 'gap or overlap at %d' % begin
    covered = end
assert covered == len(data), 'buffer not covered'
t = header[name]
count = int(np.prod(t['shape'], dtype=np.int64))
values = np.frombuffer(data, dtype=types[t['dtype']], count=count, offset=t['data_offsets'][0])
print(json.dumps({'metadata': meta, 'names': sorted(header), 'dtype': t['dtype'],
                  'shape': list(values.reshape(t['shape']).shape),
                  'values': values.astype(np.float64).tolist()}))
)PY";

// The tensor at a dotted name inside a checkpoint, read with LibTorch's own archive.
torch::Tensor checkpointTensor(const fs::path& checkpoint, const std::string& dotted) {
    torch::serialize::InputArchive archive;
    archive.load_from(checkpoint.string(), torch::Device(torch::kCPU));
    std::vector<std::string> parts;
    for (std::size_t at = 0, dot; at <= dotted.size(); at = dot + 1) {
        dot = dotted.find('.', at);
        if (dot == std::string::npos) dot = dotted.size();
        parts.push_back(dotted.substr(at, dot - at));
    }
    std::vector<torch::serialize::InputArchive> nested(parts.size());
    torch::serialize::InputArchive* at = &archive;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        if (!at->try_read(parts[i], nested[i])) return {};
        at = &nested[i];
    }
    torch::Tensor t;
    return at->try_read(parts.back(), t) ? t : torch::Tensor();
}

}  // namespace

TEST(CliWeights, ExportReadByPythonImportSamplesTheSame) {
    const fs::path run = scratch() / "run";
    ASSERT_EQ(cli("train --limit 1000 --model cvae --steps 20 --batch 32 --checkpoint-every 10 "
                  "--sample-every 10 --seed 5 --out " +
                  run.string())
                  .exitCode,
              0);
    const fs::path weights = scratch() / "run-10.safetensors";
    const auto exported =
        cli("export-weights --run " + run.string() + " --checkpoint 10 --out " + weights.string());
    ASSERT_EQ(exported.exitCode, 0) << exported.output;
    const fs::path checkpoint = run / "checkpoints" / "step-000010.pt";

    // Our reader and Python's agree on the layout; Python's values equal the checkpoint's.
    auto ours = ll::safetensors::read(weights);
    ASSERT_TRUE(ours) << ours.error().message;
    const ll::safetensors::TensorEntry* pick = nullptr;
    for (const auto& t : ours->tensors)
        if (t.dtype == ll::safetensors::DType::F32 && t.shape.size() == 2) pick = &t;
    ASSERT_NE(pick, nullptr) << "a cvae has weight matrices";
    const fs::path reader = scratch() / "reader.py";
    ASSERT_TRUE(ll::writeFileAtomic(reader, kReader));
    const auto py =
        shell("/usr/bin/python3 " + reader.string() + " " + weights.string() + " " + pick->name);
    ASSERT_EQ(py.exitCode, 0) << py.output;
    const json seen = json::parse(py.output);
    const auto& meta = seen["metadata"];
    EXPECT_EQ(meta["format"], "latentlab-weights-1");
    EXPECT_EQ(meta["run"], "run");
    EXPECT_EQ(meta["model"], "cvae");
    EXPECT_EQ(meta["step"], "10");
    EXPECT_EQ(meta["checkpoint_sha256"], *ll::sha256File(checkpoint));
    EXPECT_TRUE(json::parse(meta["settings"].get<std::string>()).is_object());
    EXPECT_EQ(json::parse(meta["data"].get<std::string>())["class_names"].size(), 10u);
    EXPECT_EQ(seen["names"].size(), ours->tensors.size());
    EXPECT_EQ(seen["dtype"], "F32");
    EXPECT_EQ(seen["shape"].get<std::vector<std::int64_t>>(), pick->shape);
    const torch::Tensor original = checkpointTensor(checkpoint, pick->name);
    ASSERT_TRUE(original.defined()) << pick->name << " is not in " << checkpoint;
    const auto values = seen["values"].get<std::vector<double>>();
    ASSERT_EQ(static_cast<std::int64_t>(values.size()), original.numel());
    const auto flat = original.to(torch::kDouble).flatten();
    for (std::int64_t i = 0; i < original.numel(); ++i)
        ASSERT_EQ(values[static_cast<std::size_t>(i)], flat[i].item<double>()) << i;

    // Imported, the run samples exactly as the original did at that step.
    const fs::path imported = scratch() / "imported";
    const auto in = cli("import-weights " + weights.string() + " --out " + imported.string());
    ASSERT_EQ(in.exitCode, 0) << in.output;
    EXPECT_TRUE(fs::exists(imported / "checkpoints" / "step-000010.pt"));
    const json config = json::parse(bytesOf(imported / "config.json"));
    EXPECT_EQ(config["status"], "imported");
    EXPECT_EQ(config["model"], "cvae");
    EXPECT_EQ(config["dataset"], json::parse(bytesOf(run / "config.json"))["dataset"]);
    EXPECT_EQ(bytesOf(imported / "data.json"), bytesOf(run / "data.json"));
    const fs::path a = scratch() / "a.png", b = scratch() / "b.png";
    ASSERT_EQ(cli("sample --run " + run.string() + " --checkpoint 10 --count 12 --seed 3 --out " +
                  a.string())
                  .exitCode,
              0);
    const auto sampled =
        cli("sample --run " + imported.string() + " --count 12 --seed 3 --out " + b.string());
    ASSERT_EQ(sampled.exitCode, 0) << sampled.output;
    EXPECT_EQ(bytesOf(a), bytesOf(b));
    EXPECT_FALSE(bytesOf(a).empty());

    // Exported again from the imported run, the tensors are the same.
    const fs::path again = scratch() / "again.safetensors";
    ASSERT_EQ(
        cli("export-weights --run " + imported.string() + " --out " + again.string()).exitCode, 0);
    auto back = ll::safetensors::read(again);
    ASSERT_TRUE(back);
    ASSERT_EQ(back->tensors.size(), ours->tensors.size());
    for (const auto& t : ours->tensors) {
        const auto* u = back->find(t.name);
        ASSERT_NE(u, nullptr) << t.name;
        EXPECT_EQ(back->data(*u), ours->data(t)) << t.name;
    }

    // A non-empty folder is not overwritten.
    const auto twice = cli("import-weights " + weights.string() + " --out " + imported.string());
    EXPECT_NE(twice.exitCode, 0);
    EXPECT_NE(twice.output.find("exists and is not empty"), std::string::npos) << twice.output;
}

// Weights exported before a model gained a module (latent-ddpm's latent range) lack its
// tensors: they import as an old checkpoint loads, the module restored (no clip), and sample.
TEST(CliWeights, ImportsWeightsExportedBeforeAModuleExisted) {
    const fs::path run = scratch() / "latent";
    const auto trained =
        cli("train --limit 500 --model latent-ddpm --steps 30 --batch 16 "
            "--set vae_steps=10 --set latent=4 --set hidden=32 --set vae_net=mlp "
            "--set vae_hidden=32 --set sample_steps=2 --out " +
            run.string());
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
    const fs::path weights = scratch() / "latent.safetensors";
    ASSERT_EQ(cli("export-weights --run " + run.string() + " --out " + weights.string()).exitCode,
              0);
    auto file = ll::safetensors::read(weights);
    ASSERT_TRUE(file) << file.error().message;
    const auto* bound = file->find("range.bound");
    ASSERT_NE(bound, nullptr) << "the export holds the range";
    float exported = 0;
    std::memcpy(&exported, file->data(*bound).data(), sizeof exported);
    EXPECT_GT(exported, 0.0f) << "the range of the latents trained on";

    std::vector<ll::safetensors::TensorIn> older;
    for (const auto& t : file->tensors)
        if (t.name != "range.bound")
            older.push_back(
                {.name = t.name, .dtype = t.dtype, .shape = t.shape, .bytes = file->data(t)});
    const fs::path old = scratch() / "latent-before-range.safetensors";
    ASSERT_TRUE(ll::safetensors::write(old, older, file->metadata));
    const fs::path imported = scratch() / "latent-before-range";
    const auto in = cli("import-weights " + old.string() + " --out " + imported.string());
    ASSERT_EQ(in.exitCode, 0) << in.output;
    EXPECT_EQ(
        checkpointTensor(imported / "checkpoints" / "step-000030.pt", "range.bound").item<float>(),
        0.0f);
    const auto sampled = cli("sample --run " + imported.string() + " --count 4 --out " +
                             (scratch() / "latent-before-range.png").string());
    EXPECT_EQ(sampled.exitCode, 0) << sampled.output;
    EXPECT_TRUE(fs::exists(scratch() / "latent-before-range.png"));
}

TEST(CliWeights, RefusesTruncatedAndLyingFiles) {
    const fs::path run = scratch() / "small";
    ASSERT_EQ(
        cli("train --limit 500 --model cvae --steps 5 --batch 16 --out " + run.string()).exitCode,
        0);
    const fs::path weights = scratch() / "small.safetensors";
    ASSERT_EQ(cli("export-weights --run " + run.string() + " --out " + weights.string()).exitCode,
              0);
    const std::string whole = bytesOf(weights);
    auto refused = [&](const std::string& bytes, const std::string& tag) {
        const fs::path file = scratch() / (tag + ".safetensors");
        const fs::path out = scratch() / ("imported-" + tag);
        EXPECT_TRUE(ll::writeFileAtomic(file, bytes));
        const auto r = cli("import-weights " + file.string() + " --out " + out.string());
        EXPECT_NE(r.exitCode, 0) << tag;
        EXPECT_FALSE(fs::exists(out)) << tag << ": nothing half-written";
        for (const auto& e : fs::directory_iterator(scratch()))
            EXPECT_EQ(e.path().filename().string().find(".imported-" + tag), std::string::npos)
                << e.path();
        return r.output;
    };
    // Cut in the data, cut in the header, cut in the length.
    EXPECT_NE(refused(whole.substr(0, whole.size() - 100), "cut-data").find("lie outside"),
              std::string::npos);
    EXPECT_NE(refused(whole.substr(0, 40), "cut-header").find("runs past the end"),
              std::string::npos);
    EXPECT_NE(refused(whole.substr(0, 5), "cut-length").find("too short"), std::string::npos);

    // The same data under another header.
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(whole[i]);
    const json header = json::parse(whole.substr(8, n));
    auto withHeader = [&](const json& h) {
        std::string text = h.dump();
        while ((8 + text.size()) % 8) text.push_back(' ');
        std::string out;
        for (int i = 0; i < 8; ++i)
            out.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
        return out + text + whole.substr(8 + n);
    };
    const std::string first = std::next(header.begin()).key();  // after "__metadata__"

    // Offsets that lie: the first tensor claims four more bytes than its shape holds.
    json lying = header;
    lying[first]["data_offsets"][1] = lying[first]["data_offsets"][1].get<std::uint64_t>() + 4;
    const std::string why = refused(withHeader(lying), "lying");
    EXPECT_NE(why.find("lying.safetensors"), std::string::npos) << why;
    EXPECT_NE(why.find("data_offsets"), std::string::npos) << why;
    EXPECT_EQ(why.find('\n'), why.size() - 1) << "one line: " << why;

    // A valid file whose tensors are not the model's, and one that is not LatentLab's.
    json renamed = header;
    renamed["net.extra"] = renamed[first];
    renamed.erase(first);
    const std::string foreign = refused(withHeader(renamed), "renamed");
    EXPECT_NE(foreign.find("no tensor '" + first + "'"), std::string::npos) << foreign;
    json bare = header;
    bare.erase("__metadata__");
    EXPECT_NE(refused(withHeader(bare), "bare").find("not LatentLab weights"), std::string::npos);

    // Metadata asking for a larger model than the tensors fill is refused while the model is
    // built: cvae's fully connected layers at 4096 units make about 26 M weights against the
    // file's 3.3 M; at a billion units, terabytes (the machine's own budget would refuse those
    // too, with another reason).
    for (const char* hidden : {"4096", "1000000000"}) {
        json huge = header;
        json settings = json::parse(huge["__metadata__"]["settings"].get<std::string>());
        settings["hidden"] = hidden;
        huge["__metadata__"]["settings"] = settings.dump();
        const std::string tag = std::string("huge-") + hidden;
        const std::string built = refused(withHeader(huge), tag);
        EXPECT_NE(built.find("weights fill: its metadata's settings do not describe its tensors"),
                  std::string::npos)
            << built;
        EXPECT_NE(built.find(tag + ".safetensors"), std::string::npos) << built;
    }

    // A checkpoint step the run does not have is named.
    const auto missing = cli("export-weights --run " + run.string() + " --checkpoint 7 --out " +
                             (scratch() / "x.safetensors").string());
    EXPECT_NE(missing.exitCode, 0);
    EXPECT_NE(missing.output.find("step-000007.pt"), std::string::npos) << missing.output;
}
