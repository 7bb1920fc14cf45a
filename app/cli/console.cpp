#include "cli/console.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include <unistd.h>

#include "common/format.h"

namespace ll::cli {

namespace {

std::atomic<bool> g_interrupted{false};

void onSignal(int) {
    g_interrupted = true;
}

}  // namespace

int failure(const std::string& message) {
    std::fprintf(stderr, "latentlab-cli: %s\n", message.c_str());
    return 1;
}

void catchInterrupts() {
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
}

bool interrupted() {
    return g_interrupted;
}

void runStoppable(const std::function<void(std::stop_token)>& work,
                  const std::function<bool()>& alsoStop) {
    std::atomic<bool> done{false};
    std::exception_ptr error;  // what the work threw, rethrown here once it has ended
    {
        std::jthread worker([&](std::stop_token stop) {
            try {
                work(stop);
            } catch (...) {
                error = std::current_exception();
            }
            done = true;
        });
        while (!done) {
            if (g_interrupted || (alsoStop && alsoStop())) worker.request_stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    if (error) std::rethrow_exception(error);
}

ProgressBar::ProgressBar() : m_tty(isatty(STDERR_FILENO) != 0) {}

void ProgressBar::update(const ll::TrainProgress& p) {
    const double fraction = p.totalSteps > 0 ? double(p.step) / double(p.totalSteps) : 0;
    const int decile = static_cast<int>(fraction * 10);
    if (!m_tty && decile == m_lastDecile && p.step != p.totalSteps) return;
    m_lastDecile = decile;
    constexpr int kWidth = 28;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    const double loss = p.losses.contains("loss") ? p.losses.at("loss")
                        : p.losses.empty()        ? 0.0
                                                  : p.losses.begin()->second;
    char line[256];
    std::snprintf(line, sizeof line, "[%s] %lld/%lld  loss %.4g  %.1f steps/s  %s left",
                  bar.c_str(), static_cast<long long>(p.step), static_cast<long long>(p.totalSteps),
                  loss, p.stepsPerSecond, ll::formatDuration(p.secondsLeft).c_str());
    std::fprintf(stderr, m_tty ? "\r%s\x1b[K" : "%s\n", line);
    m_drawn = m_tty;
}

void ProgressBar::endLine() {
    if (m_drawn) std::fputc('\n', stderr);
    m_drawn = false;
}

StageProgress::StageProgress() : m_tty(isatty(STDERR_FILENO) != 0) {}

bool StageProgress::operator()(const std::string& stage, double fraction) {
    if (g_interrupted) return false;
    if (m_tty) {
        std::fprintf(stderr, "\r%s %3.0f%%\x1b[K", stage.c_str(), 100 * fraction);
    } else if (stage != m_stage) {
        std::fprintf(stderr, "%s...\n", stage.c_str());
    }
    m_stage = stage;
    return true;
}

void StageProgress::endLine() {
    if (m_tty && !m_stage.empty()) std::fputc('\n', stderr);
    m_stage.clear();
}

}  // namespace ll::cli
