// The GAN family's catalogue entry: its models' facts and settings, and its CPU and GPU presets.
#include "models/families.h"
#include "models/gan.h"

namespace ll {

Family ganFamily() {
    const Settings common{{"latent", "64"},      {"width", "64"},    {"d_width", ""},
                          {"beta1", "0.5"},      {"beta2", "0.999"}, {"d_lr_ratio", "1"},
                          {"mode_seeking", "1"}, {"ema", "0"},       {"d_norm", "batch"},
                          {"refine", "0"},       {"lookahead", "0"}, {"lookahead_alpha", "0.5"},
                          {"precision", "fp32"}};
    const std::map<std::string, std::string> help{
        {"latent", "size of the noise vector z, 1..4096"},
        {"width",
         "channels of the generator's last and the discriminator's first convolution "
         "(the others have twice as many), 1..1024; images only"},
        {"d_width",
         "channels of the discriminator's first convolution (its second has twice as many), "
         "1..1024; images only; empty (default): as width"},
        {"hidden", "layer widths of both MLPs, comma-separated; tabular rows only"},
        {"categories",
         "a table's categorical columns, each a softmax over its values (the discriminator "
         "sees a Gumbel-softmax draw of it in training; samples draw one value at the "
         "temperature): their one-hot features as first:count, comma-separated; filled from "
         "the data when a run starts; none: learn them as numbers, as runs before it did"},
        {"beta1", "Adam's first-moment decay for both networks, in [0, 1)"},
        {"beta2", "Adam's second-moment decay for both networks, in [0, 1)"},
        {"d_lr_ratio", "discriminator learning rate / generator learning rate (TTUR), in (0, 100]"},
        {"aux_weight",
         "weight of the auxiliary class loss (the discriminator's on real images, the "
         "generator's on its fakes), >= 0"},
        {"projection",
         "AC-GAN: 1 projects the class onto the real/fake score as cGAN's discriminator does, "
         "beside the class head; 0 (default) keeps Odena et al.'s unconditional score"},
        {"mode_seeking",
         "weight of the mode-seeking term (Mao et al. 2019) that keeps samples of one class "
         "apart, 0..100; 0 turns it off"},
        {"ema",
         "decay of the generator's weight average that samples come from, in [0, 1) (warmed "
         "up), e.g. 0.999 for long runs; 0 (default) samples from the trained generator"},
        {"lookahead",
         "every k steps both networks' weights step back to slow copies moved lookahead_alpha "
         "of the way towards them (Lookahead-minmax, Chavdarova et al. 2021), which damps the "
         "players' rotation around each other, 0..1000; 0 (default) turns it off"},
        {"lookahead_alpha", "how far the slow weights move towards the fast ones, in (0, 1]"},
        {"refine",
         "3x3 convolutions (width/2 channels, batch norm, ReLU) the generator adds at full "
         "resolution before its output, 0..4; images only. 1 costs dcgan-cpu a fifth of its "
         "steps/s and gave FID 252 instead of 330 after 2,000 steps"},
        {"d_norm",
         "how the discriminator is held in check: batch (batch norm, DCGAN), spectral (every "
         "layer but the class embedding and AC-GAN's class head spectrally normalised, SNGAN), "
         "layer (layer norm on the second convolution, as Gulrajani et al. suggest for WGAN-GP) "
         "or none (batch and layer norm apply to images; an MLP discriminator has neither); "
         "WGAN-GP's critic takes spectral, layer or none. "
         "Spectral gave dcgan-cpu FID 460 instead of 330 after 2,000 steps (checkered samples): "
         "its two-layer discriminator is too weak once normalised"},
        {"precision", std::string(kPrecisionHelp) +
                          ". WGAN-GP computes its gradient penalty in fp32 either way"},
        {"gp", "weight of the gradient penalty, >= 0"},
        {"critic_steps", "critic updates per generator update, 1..100"},
        {"gp_every",
         "the gradient penalty on every k-th critic update only, weighted k times (lazy "
         "regularisation, Karras et al. 2020), 1..64: a penalised update costs about 1.4 "
         "plain ones on the CPU, so k 4 makes a step about 1.3x as fast; the losses report "
         "the latest penalty"}};
    Settings conditional = common;
    conditional["hidden"] = "256,256";
    conditional["categories"] = "";
    Settings auxiliary = common;
    auxiliary["aux_weight"] = "1";
    auxiliary["projection"] = "0";
    Settings wasserstein = common;
    wasserstein["beta1"] = "0";
    wasserstein["beta2"] = "0.9";
    wasserstein["gp"] = "10";
    wasserstein["critic_steps"] = "5";
    wasserstein["gp_every"] = "1";
    wasserstein["d_norm"] = "none";
    wasserstein.erase("mode_seeking");
    auto make = [](Gan::Kind kind) {
        return [kind](const ModelShape& shape, const Settings& s, const LinkedModels&) {
            return std::make_unique<Gan>(kind, shape, s);
        };
    };
    Family f;
    f.models = {
        {{.name = "dcgan",
          .description = "DCGAN: upsample+conv generator with batch norm, strided-conv "
                         "discriminator, non-saturating loss; unconditional",
          .family = ModelFamily::Gan,
          .images = true,
          .tabular = false,
          .conditional = false,
          .knob = SampleKnob::Truncation,
          .defaults = common,
          .help = help},
         make(Gan::Kind::Dcgan)},
        {{.name = "cgan",
          .description = "Conditional GAN: class embedding beside z in the generator, projection "
                         "discriminator; images (DCGAN-style) or tabular rows (MLPs)",
          .family = ModelFamily::Gan,
          .images = true,
          .tabular = true,
          .conditional = true,
          .knob = SampleKnob::Truncation,
          .tableSettings = {"categories"},
          .defaults = conditional,
          .help = help},
         make(Gan::Kind::Cgan)},
        {{.name = "acgan",
          .description = "AC-GAN: class-conditional generator, discriminator with an auxiliary "
                         "classifier head",
          .family = ModelFamily::Gan,
          .images = true,
          .tabular = false,
          .conditional = true,
          .knob = SampleKnob::Truncation,
          .defaults = auxiliary,
          .help = help},
         make(Gan::Kind::Acgan)},
        {{.name = "wgan-gp",
          .description = "WGAN-GP: Wasserstein critic without batch norm, gradient penalty; "
                         "unconditional",
          .family = ModelFamily::Gan,
          .images = true,
          .tabular = false,
          .conditional = false,
          .knob = SampleKnob::Truncation,
          .defaults = wasserstein,
          .help = help},
         make(Gan::Kind::WganGp)},
    };
    // CPU costs measured on the 2-core machine as CPU seconds per step (taskset to one core,
    // so the other users of the machine did not count): width 64 at batch 64 about 0.4 s, the
    // WGAN-GP step with 2 critic updates about 1 s; two cores run them about 1.8x as fast.
    f.presets = {
        {.name = "dcgan-cpu",
         .model = "dcgan",
         .description = "DCGAN width 64 with mode seeking and a refining convolution at full "
                        "resolution, trained in bf16 at learning rate 4e-4, batch 64, 8,500 "
                        "steps: about 14 steps/s on 2 CPU cores, so about 10 minutes; garment "
                        "shapes after a few hundred steps. Then FID 83 (10.0x its floor). In "
                        "fp32 at 2e-4 the same minutes made 5,500 steps and FID 129",
         .steps = 8500,
         .learningRate = 4e-4,
         .batchSize = 64,
         .settings = {{"latent", "64"}, {"width", "64"}, {"refine", "1"}, {"precision", "bf16"}}},
        {.name = "dcgan-gpu",
         .model = "dcgan",
         .description = "Wider DCGAN (width 128, latent 128) for a GPU, batch 256, 10,000 steps",
         .steps = 10000,
         .learningRate = 2e-4,
         .batchSize = 256,
         .settings = {{"latent", "128"}, {"width", "128"}}},
        {.name = "cgan-cpu",
         .model = "cgan",
         .description = "cGAN width 64 with a projection discriminator, mode seeking and a "
                        "refining convolution at full resolution, batch 64, 4,800 steps: about "
                        "10.6 steps/s on 2 CPU cores, so about 8 minutes. Then FID 64.6 and "
                        "classifier agreement 0.83; garments after a few hundred steps",
         .steps = 4800,
         .learningRate = 2e-4,
         .batchSize = 64,
         .settings = {{"latent", "64"}, {"width", "64"}, {"refine", "1"}}},
        {.name = "cgan-gpu",
         .model = "cgan",
         .description = "Wider cGAN (width 128, latent 128) for a GPU, batch 256, 10,000 steps",
         .steps = 10000,
         .learningRate = 2e-4,
         .batchSize = 256,
         .settings = {{"latent", "128"}, {"width", "128"}}},
        {.name = "acgan-cpu",
         .model = "acgan",
         .description = "AC-GAN width 64 with mode seeking, a refining convolution at full "
                        "resolution and the class projected onto the real/fake score too, "
                        "trained in bf16, batch 64, 6,500 steps: about 14 steps/s on 2 CPU "
                        "cores, so about 8 minutes. Then FID 49 (5.9x its floor) and classifier "
                        "agreement 0.96. Odena et al.'s unconditional score in fp32 made 4,800 "
                        "steps in about the same minutes and FID 111",
         .steps = 6500,
         .learningRate = 2e-4,
         .batchSize = 64,
         .settings = {{"latent", "64"},
                      {"width", "64"},
                      {"aux_weight", "1"},
                      {"refine", "1"},
                      {"projection", "1"},
                      {"precision", "bf16"}}},
        {.name = "acgan-gpu",
         .model = "acgan",
         .description = "Wider AC-GAN (width 128, latent 128) for a GPU, batch 256, 10,000 steps",
         .steps = 10000,
         .learningRate = 2e-4,
         .batchSize = 256,
         .settings = {{"latent", "128"}, {"width", "128"}, {"aux_weight", "1"}}},
        {.name = "wgan-gp-cpu",
         .model = "wgan-gp",
         .description = "WGAN-GP: generator width 64 with a refining layer, critic width 32, "
                        "1 critic update per step at twice the generator's learning rate of "
                        "4e-4, trained in bf16 (the gradient penalty in fp32), batch 64, "
                        "10,500 steps: 18-20 steps/s on 2 CPU cores, so 9-10 minutes. Then "
                        "FID 70-84 over six runs (mean 78, 9.4x its floor), recall about 0.68; "
                        "blurrier than DCGAN, but it does not collapse",
         .steps = 10500,
         .learningRate = 4e-4,
         .batchSize = 64,
         .settings = {{"latent", "64"},
                      {"width", "64"},
                      {"d_width", "32"},
                      {"critic_steps", "1"},
                      {"d_lr_ratio", "2"},
                      {"gp", "10"},
                      {"refine", "1"},
                      {"precision", "bf16"}}},
        {.name = "wgan-gp-gpu",
         .model = "wgan-gp",
         .description = "Wider WGAN-GP (width 128, latent 128) for a GPU, 5 critic updates per "
                        "step, batch 256, 20,000 steps",
         .steps = 20000,
         .learningRate = 1e-4,
         .batchSize = 256,
         .settings = {{"latent", "128"}, {"width", "128"}, {"critic_steps", "5"}, {"gp", "10"}}},
    };
    return f;
}

}  // namespace ll
