#include "export/exportwriters.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>

#include <torch/torch.h>
#include <zlib.h>

#include "common/csvtext.h"
#include "common/sha256.h"
#include "data/dataset.h"
#include "image/grid.h"

namespace ll::exporting {
namespace fs = std::filesystem;
using torch::Tensor;

std::vector<std::int64_t> labelValues(const std::vector<std::string>& names) {
    std::vector<std::int64_t> values;
    for (const auto& name : names) {
        const bool whole =
            !name.empty() && name.size() <= 9 &&
            std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); });
        if (!whole || (name.size() > 1 && name[0] == '0')) break;  // "007" is a name
        values.push_back(std::stoll(name));
    }
    if (values.size() != names.size()) {
        values.resize(names.size());
        std::iota(values.begin(), values.end(), std::int64_t{0});
    }
    return values;
}

namespace {

std::atomic<long> g_writes{0};

std::string systemError(const fs::path& file) {
    return file.string() + ": cannot write (" + std::strerror(errno ? errno : EIO) + ")";
}

/// A file written in pieces, each checked: a full disk fails the write that meets it.
class Output {
public:
    explicit Output(fs::path file) : m_file(std::move(file)), m_out(m_file, std::ios::binary) {}
    bool open() const { return m_out.is_open(); }
    Result<void> write(const void* bytes, std::size_t size) {
        if (auto fault = injectedWriteFault(m_file); !fault) return fault;
        m_out.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(size));
        if (!m_out) return fail(systemError(m_file));
        return {};
    }
    Result<void> close() {
        m_out.close();
        if (m_out.fail()) return fail(systemError(m_file));
        return {};
    }
    const fs::path& path() const { return m_file; }

private:
    fs::path m_file;
    std::ofstream m_out;
};

Result<std::unique_ptr<Output>> openOutput(const fs::path& file) {
    auto out = std::make_unique<Output>(file);
    if (!out->open()) return fail(systemError(file));
    return out;
}

/// Copies the body file after `header` into `target`, through gzip when asked; the body goes.
Result<void> assemble(const fs::path& target, const std::string& header, const fs::path& body,
                      bool gzip) {
    std::ifstream in(body, std::ios::binary);
    if (!in) return fail(body.string() + ": cannot read back");
    std::vector<char> buffer(1 << 20);
    if (gzip) {
        gzFile z = gzopen(target.c_str(), "wb6");
        if (!z) return fail(systemError(target));
        bool ok = gzwrite(z, header.data(), static_cast<unsigned>(header.size())) ==
                  static_cast<int>(header.size());
        while (ok && in) {
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            const auto n = static_cast<unsigned>(in.gcount());
            if (n == 0) break;
            ok = injectedWriteFault(target).has_value() &&
                 gzwrite(z, buffer.data(), n) == static_cast<int>(n);
        }
        if (gzclose(z) != Z_OK || !ok) return fail(systemError(target));
    } else {
        auto out = openOutput(target);
        if (!out) return tl::unexpected(out.error());
        if (auto ok = (*out)->write(header.data(), header.size()); !ok) return ok;
        while (in) {
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            const auto n = static_cast<std::size_t>(in.gcount());
            if (n == 0) break;
            if (auto ok = (*out)->write(buffer.data(), n); !ok) return ok;
        }
        if (auto ok = (*out)->close(); !ok) return ok;
    }
    std::error_code ec;
    fs::remove(body, ec);
    return {};
}

std::string bigEndian(std::uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

/// An IDX header: magic (0, 0, type, dims) and the dims, big-endian.
std::string idxHeader(std::uint8_t type, const std::vector<std::int64_t>& dims) {
    std::string h{char(0), char(0), char(type), char(dims.size())};
    for (auto d : dims) h += bigEndian(static_cast<std::uint32_t>(d));
    return h;
}

/// A .npy header (format 1.0) for C-order data of `descr` and `shape`, padded to 64 bytes.
std::string npyHeader(const std::string& descr, const std::vector<std::int64_t>& shape) {
    std::string dims;
    for (auto d : shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
    if (shape.size() == 1) dims += ",";  // (N,): a one-element tuple
    std::string dict =
        "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    const std::size_t unpadded = 10 + dict.size() + 1;
    dict += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
    std::string h = "\x93NUMPY";
    h += char(1), h += char(0);
    h += char(dict.size() & 0xff), h += char(dict.size() >> 8);
    return h + dict;
}

std::vector<std::uint8_t> bytesOf(const Tensor& sample) {
    const auto c = sample.to(torch::kUInt8).contiguous();
    return {c.data_ptr<std::uint8_t>(), c.data_ptr<std::uint8_t>() + c.numel()};
}

/// Channels last, as IDX and NumPy image arrays keep them (N x H x W x C).
std::vector<std::uint8_t> channelsLast(const Tensor& sample) {
    return bytesOf(sample.size(0) == 1 ? sample : sample.permute({1, 2, 0}));
}

class PngWriter final : public SampleWriter {
public:
    PngWriter(fs::path dir, RunData data) : m_dir(std::move(dir)), m_data(std::move(data)) {}
    Result<WrittenSample> add(const Tensor& sample, int label) override {
        const auto& names = m_data.classNames;
        const std::string folder =
            classFolderName(label, names[static_cast<std::size_t>(label)], int(names.size()));
        std::error_code ec;
        fs::create_directories(m_dir / folder, ec);
        if (ec) return fail((m_dir / folder).string() + ": cannot create (" + ec.message() + ")");
        char name[40];
        std::snprintf(name, sizeof name, "sample-%06lld.png", static_cast<long long>(m_next++));
        const std::string file = folder + "/" + name;
        const std::string png =
            encodePng(makeGrid(sample.to(torch::kFloat32).div(255.0).unsqueeze(0), 1));
        auto out = openOutput(m_dir / file);
        if (!out) return tl::unexpected(out.error());
        if (auto ok = (*out)->write(png.data(), png.size()); !ok) return tl::unexpected(ok.error());
        if (auto ok = (*out)->close(); !ok) return tl::unexpected(ok.error());
        return WrittenSample{file, 0, sha256Hex(png)};
    }
    Result<std::vector<fs::path>> finish() override { return std::vector<fs::path>{}; }

private:
    fs::path m_dir;
    RunData m_data;
    std::int64_t m_next = 0;
};

/// IDX and NumPy: images and labels streamed to body files, headers put before them at the end.
class ArrayWriter final : public SampleWriter {
public:
    ArrayWriter(ExportFormat format, bool gzip, fs::path dir, RunData data)
        : m_format(format),
          m_gzip(gzip),
          m_dir(std::move(dir)),
          m_data(std::move(data)),
          m_values(labelValues(m_data.classNames)) {}
    Result<void> open() {
        auto x = openOutput(m_dir / ".images.body");
        if (!x) return tl::unexpected(x.error());
        auto y = openOutput(m_dir / ".labels.body");
        if (!y) return tl::unexpected(y.error());
        m_images = std::move(*x), m_labels = std::move(*y);
        return {};
    }
    Result<WrittenSample> add(const Tensor& sample, int label) override {
        const auto bytes = channelsLast(sample);
        if (auto ok = m_images->write(bytes.data(), bytes.size()); !ok)
            return tl::unexpected(ok.error());
        Result<void> ok;
        const std::int64_t value = m_values.at(static_cast<std::size_t>(label));
        if (m_format == ExportFormat::Npy) {
            ok = m_labels->write(&value, sizeof value);
        } else if (wideLabels()) {
            const std::string y = bigEndian(static_cast<std::uint32_t>(value));
            ok = m_labels->write(y.data(), y.size());
        } else {
            const auto y = static_cast<std::uint8_t>(value);
            ok = m_labels->write(&y, 1);
        }
        if (!ok) return tl::unexpected(ok.error());
        return WrittenSample{
            imagesName(), m_count++,
            sha256Hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()})};
    }
    Result<std::vector<fs::path>> finish() override {
        if (auto ok = m_images->close(); !ok) return tl::unexpected(ok.error());
        if (auto ok = m_labels->close(); !ok) return tl::unexpected(ok.error());
        const auto& s = m_data.shape;
        std::vector<std::int64_t> dims{m_count, s.height, s.width};
        if (s.channels > 1) dims.push_back(s.channels);
        std::string xHeader, yHeader;
        if (m_format == ExportFormat::Npy) {
            xHeader = npyHeader("|u1", dims);
            yHeader = npyHeader("<i8", {m_count});
        } else {
            xHeader = idxHeader(0x08, dims);
            yHeader = idxHeader(wideLabels() ? 0x0C : 0x08, {m_count});
        }
        const bool gz = m_gzip && m_format == ExportFormat::Idx;
        const fs::path x = m_dir / imagesName(), y = m_dir / labelsName();
        if (auto ok = assemble(x, xHeader, m_images->path(), gz); !ok)
            return tl::unexpected(ok.error());
        if (auto ok = assemble(y, yHeader, m_labels->path(), gz); !ok)
            return tl::unexpected(ok.error());
        return std::vector<fs::path>{x, y};
    }

private:
    bool wideLabels() const {
        return !m_values.empty() && *std::max_element(m_values.begin(), m_values.end()) > 255;
    }
    std::string imagesName() const {
        if (m_format == ExportFormat::Npy) return "x.npy";
        const auto& s = m_data.shape;
        return std::string(s.channels > 1 ? "train-images-idx4-ubyte" : "train-images-idx3-ubyte") +
               (m_gzip ? ".gz" : "");
    }
    std::string labelsName() const {
        if (m_format == ExportFormat::Npy) return "y.npy";
        return std::string("train-labels-idx1-ubyte") + (m_gzip ? ".gz" : "");
    }

    ExportFormat m_format;
    bool m_gzip;
    fs::path m_dir;
    RunData m_data;
    std::vector<std::int64_t> m_values;  // by class index
    std::unique_ptr<Output> m_images, m_labels;
    std::int64_t m_count = 0;
};

/// Tabular rows in the data's own units, categories and the class by name, as the CSV reader
/// takes them.
class CsvWriter final : public SampleWriter {
public:
    CsvWriter(fs::path dir, RunData data) : m_dir(std::move(dir)), m_data(std::move(data)) {}
    Result<void> open() {
        auto out = openOutput(m_dir / kFile);
        if (!out) return tl::unexpected(out.error());
        m_out = std::move(*out);
        const std::string header = tableCsvHeader(rows(torch::zeros({0, features()}), {}));
        return m_out->write(header.data(), header.size());
    }
    Result<WrittenSample> add(const Tensor& sample, int label) override {
        const std::string line = tableCsvRow(rows(sample.reshape({1, features()}), {label}), 0, 9);
        if (auto ok = m_out->write(line.data(), line.size()); !ok)
            return tl::unexpected(ok.error());
        return WrittenSample{kFile, m_count++, sha256Hex(line)};
    }
    Result<std::vector<fs::path>> finish() override {
        if (auto ok = m_out->close(); !ok) return tl::unexpected(ok.error());
        return std::vector<fs::path>{m_dir / kFile};
    }

private:
    static constexpr const char* kFile = "samples.csv";
    std::int64_t features() const { return static_cast<std::int64_t>(m_data.featureNames.size()); }
    TableSamples rows(const Tensor& x, std::vector<std::int64_t> labels) const {
        return makeTable(x, torch::tensor(labels, torch::kInt64), m_data.featureNames, m_data.mean,
                         m_data.std, m_data.classNames, m_data.categorical, m_data.decimals);
    }
    fs::path m_dir;
    RunData m_data;
    std::unique_ptr<Output> m_out;
    std::int64_t m_count = 0;
};

}  // namespace

std::string classFolderName(int index, const std::string& name, int numClasses) {
    const int width = static_cast<int>(std::to_string(std::max(0, numClasses - 1)).size());
    char number[16];
    std::snprintf(number, sizeof number, "%0*d", width, index);
    std::string safe;
    for (unsigned char c : name)
        safe += (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ' ' || c >= 0x80)
                    ? char(c)
                    : '_';
    return std::string(number) + "-" + safe;
}

Result<void> injectedWriteFault(const fs::path& file) {
    static const long failAt = [] {
        const char* spec = std::getenv("LATENTLAB_INJECT_FAULT");
        const std::string prefix = "export-write:";
        if (!spec || !std::string(spec).starts_with(prefix)) return 0L;
        return std::atol(spec + prefix.size());
    }();
    if (failAt > 0 && ++g_writes == failAt)
        return fail(file.string() + ": cannot write (No space left on device; injected)");
    return {};
}

Result<std::unique_ptr<SampleWriter>> SampleWriter::create(ExportFormat format, bool gzip,
                                                           const fs::path& dir,
                                                           const RunData& data) {
    const bool tabular = data.shape.tabular();
    if (tabular != (format == ExportFormat::Csv))
        return fail(tabular ? "a tabular run exports CSV rows"
                            : "an image run exports png, idx or npy, not csv");
    if (format == ExportFormat::Png) return std::make_unique<PngWriter>(dir, data);
    if (format == ExportFormat::Csv) {
        auto w = std::make_unique<CsvWriter>(dir, data);
        if (auto ok = w->open(); !ok) return tl::unexpected(ok.error());
        return w;
    }
    auto w = std::make_unique<ArrayWriter>(format, gzip, dir, data);
    if (auto ok = w->open(); !ok) return tl::unexpected(ok.error());
    return w;
}

}  // namespace ll::exporting
