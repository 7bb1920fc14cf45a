// Latent arithmetic (sample/latentarithmetic.h) and the manifest of a folder of samples
// (sample/manifest.h): torch-free tools that the CLI and the window share.
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "sample/classrows.h"
#include "sample/latentarithmetic.h"
#include "sample/manifest.h"

namespace fs = std::filesystem;

TEST(LatentArithmetic, AMinusBPlusC) {
    const std::vector<float> a{1, 2, 3}, b{0.5f, -1, 3}, c{10, 20, 30};
    auto z = ll::latentArithmetic(a, b, c);
    ASSERT_TRUE(z) << z.error().message;
    EXPECT_EQ(*z, (std::vector<float>{10.5f, 23, 30}));
    // A - A + C is C, exactly.
    EXPECT_EQ(*ll::latentArithmetic(a, a, c), c);
    auto wrong = ll::latentArithmetic(a, b, {1, 2});
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().message,
              "latent arithmetic needs latents of one width, not 3, 3 and 2");
}

TEST(LatentArithmetic, MoveAlongADirection) {
    const std::vector<float> z{1, 1, 1}, d{0.6f, 0.8f, 0};
    auto moved = ll::moveAlong(z, d, 2.5);
    ASSERT_TRUE(moved) << moved.error().message;
    EXPECT_FLOAT_EQ((*moved)[0], 2.5f);
    EXPECT_FLOAT_EQ((*moved)[1], 3.0f);
    EXPECT_EQ((*moved)[2], 1.0f);
    EXPECT_EQ(*ll::moveAlong(z, d, 0), z);
    // Back again.
    auto back = ll::moveAlong(*moved, d, -2.5);
    for (std::size_t i = 0; i < z.size(); ++i) EXPECT_NEAR((*back)[i], z[i], 1e-6);
    auto wrong = ll::moveAlong(z, {1, 0}, 1);
    ASSERT_FALSE(wrong);
    EXPECT_NE(wrong.error().message.find("width 3"), std::string::npos);
}

TEST(ClassRows, OneClassPerRowNamedOnlyForConditionalModels) {
    const std::vector<std::string> names{"shirt", "shoe", "bag"};
    auto cvae = ll::classRows("cvae", names, 2, 3);
    EXPECT_EQ(cvae.rows, 2);
    EXPECT_EQ(cvae.labels, (std::vector<std::int64_t>{0, 0, 0, 1, 1, 1}));
    EXPECT_EQ(cvae.names, (std::vector<std::string>{"shirt", "shoe"}));
    // An unconditional model draws the same grid, but its rows are not classes.
    auto dcgan = ll::classRows("dcgan", names, 10, 1);
    EXPECT_EQ(dcgan.rows, 3);
    EXPECT_EQ(dcgan.labels, (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_TRUE(dcgan.names.empty());
    // At least one row and one column, whatever was asked.
    auto least = ll::classRows("cgan", names, 0, 0);
    EXPECT_EQ(least.labels, (std::vector<std::int64_t>{0}));
    EXPECT_EQ(least.names, (std::vector<std::string>{"shirt"}));
}

TEST(SampleManifest, OneLinePerSampleWithItsSettings) {
    EXPECT_EQ(ll::sampleFileName(42), "sample-000042.png");
    const ll::SampleRequest request{.seed = 7,
                                    .mixture = {{3, 0.5}, {5, 0.25}},
                                    .temperature = 0.8,
                                    .guidance = 2,
                                    .guidanceFrom = 0.2,
                                    .guidanceTo = 0.9,
                                    .steps = 50,
                                    .sampler = ll::Sampler::Ddpm};
    const std::vector<std::string> names{"T-shirt", "Ankle boot, \"left\""};
    const std::string manifest =
        ll::sampleManifest({{.file = "sample-000000.png", .label = 0, .index = 0},
                            {.file = "sample-000001.png", .label = 1, .index = 1}},
                           names, request, 1200);
    EXPECT_EQ(manifest,
              "file,class,class_name,seed,index,step,temperature,truncation,guidance,steps,"
              "sampler,classifier_scale,guidance_interval,mixture\n"
              "sample-000000.png,0,T-shirt,7,0,1200,0.8,0,2,50,ddpm,0,0.2:0.9,3:0.5 5:0.25\n"
              "sample-000001.png,1,\"Ankle boot, \"\"left\"\"\",7,1,1200,0.8,0,2,50,ddpm,0,"
              "0.2:0.9,3:0.5 5:0.25\n");
    const fs::path file =
        fs::temp_directory_path() / ("latentlab-manifest-" + std::to_string(::getpid()) + ".csv");
    ASSERT_TRUE(ll::writeSampleManifest(file, {}, names, ll::SampleRequest{}, 0));
    EXPECT_EQ(*ll::readFile(file),
              "file,class,class_name,seed,index,step,temperature,truncation,guidance,steps,"
              "sampler,classifier_scale,guidance_interval,mixture\n");
    fs::remove(file);
}
