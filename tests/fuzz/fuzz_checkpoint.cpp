// A run's checkpoint (.pt) through GenerativeModel::load, the one way every checkpoint is
// opened (run/runloader.h's loadNewestCheckpoint and loadRun, the extractors, export), and a
// checkpoint that loads through one training step, as a resumed run takes.
//
// The model is laid out exactly as the registry's "vae" lays out a tabular run trained with
// the vae-cpu preset's net=mlp, likelihood=gaussian, prior=fitted and --set hidden=8
// --set latent=2 on 4 features and 3 classes: the seeds (tests/fuzz/corpus/checkpoint, from
// such runs) load whole, so the fuzzer reaches past the name and shape checks into the
// modules' and the optimiser's state. The family's own vae.cpp needs C++20's map::contains,
// which this C++17 build cannot compile; the parts it is made of (vaeparts, FusedAdam) are
// the real ones.
//
// Each input is loaded as it is and, where that differs, with the CRC-32 of every stored
// record made right: the fuzzer cannot compute CRCs, and without them no mutation would get
// past the archive check into the class declarations and pickles it guards.
#include <zlib.h>

#include "fuzzinput.h"
#include "models/fusedadam.h"
#include "models/vaeparts.h"

namespace {

const ll::ModelShape kShape{.features = 4, .numClasses = 3};

class FuzzVae final : public ll::ModelBase {
public:
    FuzzVae() : ll::ModelBase("vae", kShape, {{"device", "cpu"}}) {
        m_net = ll::CvaeNet(4, 0, 2, std::vector<int>{8}).ptr();
        m_logSigma = m_net->register_parameter("log_sigma", torch::zeros({1}));
        m_prior = ll::FittedPrior(3, 2);
        m_optimizer =
            std::make_unique<ll::FusedAdam>(m_net->parameters(), torch::optim::AdamOptions(1e-3));
    }
    ll::LossMap trainStep(const torch::Tensor& x, const torch::Tensor&) override {
        const auto none = torch::empty({x.size(0), 0});
        auto [mu, logVar] = m_net->encode(x, none);
        auto loss = (m_net->decode(mu, none) - x).pow(2).mean() + logVar.mean() + m_logSigma.sum();
        m_optimizer->zero_grad();
        loss.backward();
        m_optimizer->step();
        return {{"loss", loss.item<double>()}};
    }
    torch::Tensor sample(const ll::SampleRequest&) override { return {}; }
    double learningRate() const override { return 0; }
    void setLearningRate(double) override {}

protected:
    std::vector<std::pair<std::string, torch::nn::Module*>> modules() override {
        return {{"net", m_net.get()}, {"prior", m_prior.get()}};
    }
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override {
        return {{"optimizer", m_optimizer.get()}};
    }

private:
    std::shared_ptr<ll::CvaeNetImpl> m_net;
    torch::Tensor m_logSigma;
    ll::FittedPrior m_prior{nullptr};
    std::unique_ptr<torch::optim::Adam> m_optimizer;
};

std::uint32_t le(const std::string& s, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
    return v;
}

// The central directory's CRC-32 of every stored record whose bytes lie inside the file, made
// right; everything else as it was.
std::string withCrcsFixed(std::string zip) {
    if (zip.size() < 22 || le(zip, zip.size() - 22, 4) != 0x06054b50) return zip;
    const std::size_t entries = le(zip, zip.size() - 12, 2);
    std::size_t p = le(zip, zip.size() - 6, 4);
    for (std::size_t i = 0; i < entries && p + 46 <= zip.size(); ++i) {
        if (le(zip, p, 4) != 0x02014b50) break;
        const std::size_t packed = le(zip, p + 20, 4), header = le(zip, p + 42, 4);
        if (le(zip, p + 10, 2) == 0 && header + 30 <= zip.size()) {
            const std::size_t data =
                header + 30 + le(zip, header + 26, 2) + le(zip, header + 28, 2);
            if (data <= zip.size() && packed <= zip.size() - data) {
                const auto crc =
                    crc32_z(0, reinterpret_cast<const Bytef*>(zip.data() + data), packed);
                for (int b = 0; b < 4; ++b) zip[p + 16 + b] = static_cast<char>(crc >> (8 * b));
            }
        }
        p += 46 + le(zip, p + 28, 2) + le(zip, p + 30, 2) + le(zip, p + 32, 2);
    }
    return zip;
}

void loadAndResume(std::string_view bytes) {
    const auto file = ll::fuzz::scratch() / "step-000020.pt";
    ll::fuzz::writeFile(file, bytes);
    // A fresh model for every input: what one load left behind must not steer the next.
    FuzzVae model;
    if (!model.load(file)) return;
    try {
        (void)model.trainStep(torch::ones({2, 4}), {});
    } catch (const std::exception&) {
        // The trainer reports a step that throws; what must not happen is a crash.
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    loadAndResume(bytes);
    if (const auto fixed = withCrcsFixed(bytes); fixed != bytes) loadAndResume(fixed);
    return 0;
}
