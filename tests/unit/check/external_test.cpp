// External checks: outcomes and messages as HAProxy 2.6 prints them, and ExternalProcess on a
// loop of its own (spawn, exit status, kill, nothing left behind).
#include "sluice/check/external.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>

#include "sluice/check/checks.hpp"

namespace sluice::check {
namespace {

TEST(ExternalOutcome, ExitStatusAndSignal) {
    const Outcome ok = external_outcome(true, 0);
    EXPECT_EQ(ok.status, Status::ProcOk);
    EXPECT_EQ(ok.code, 0);
    EXPECT_TRUE(passed(ok.status));
    const Outcome bad = external_outcome(true, 3);
    EXPECT_EQ(bad.status, Status::ProcErr);
    EXPECT_EQ(bad.code, 3);
    EXPECT_FALSE(passed(bad.status));
    EXPECT_EQ(external_outcome(false, 9).code, -1);
}

TEST(ExternalOutcome, StateMessagesAsHaproxy) {
    // HAProxy 2.6: the external statuses come after the Layer7 ones, so messages show the code.
    const Outcome err{Status::ProcErr, 3, {}};
    EXPECT_EQ(format_state_message({.backend = "be",
                                    .server = "s1",
                                    .what = StateMessage::What::Down,
                                    .outcome = &err,
                                    .duration_ms = 2}),
              "Server be/s1 is DOWN, reason: External check error, code: 3, check duration: "
              "2ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 "
              "remaining in queue.");
    const Outcome tout{Status::ProcTimeout, 0, {}};
    EXPECT_EQ(format_state_message({.backend = "be",
                                    .server = "s1",
                                    .what = StateMessage::What::Down,
                                    .outcome = &tout,
                                    .duration_ms = 300}),
              "Server be/s1 is DOWN, reason: External check timeout, code: 0, check duration: "
              "300ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 "
              "remaining in queue.");
    const Outcome ok{Status::ProcOk, 0, {}};
    EXPECT_EQ(format_state_message({.backend = "be",
                                    .server = "s1",
                                    .what = StateMessage::What::Up,
                                    .outcome = &ok,
                                    .duration_ms = 20,
                                    .active = 1}),
              "Server be/s1 is UP, reason: External check passed, code: 0, check duration: "
              "20ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in "
              "queue.");
}

// `sh -c SCRIPT` as the command: the four HAProxy arguments become $0..$3 of the script.
ExternalCommand shell(const std::string& script) {
    ExternalCommand c;
    c.command = "/bin/sh";
    c.args = {"-c", script, "x", "y"};
    c.env = {"HAPROXY_SERVER_CURCONN=0", "PATH="};
    c.curconn_index = 0;
    return c;
}

struct Loop {
    struct ev_loop* raw = ev_loop_new(EVFLAG_AUTO);
    ~Loop() { ev_loop_destroy(raw); }
    // Runs until `done` is set or `seconds` pass.
    void run_until(const std::optional<Outcome>& done, double seconds) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (!done && std::chrono::steady_clock::now() < end)
            ev_run(raw, EVRUN_ONCE | EVRUN_NOWAIT), usleep(1000);
    }
};

TEST(ExternalProcess, ReportsTheExitStatus) {
    Loop loop;
    std::optional<Outcome> got;
    ExternalProcess p(shell("exit 5"), loop.raw, [&](Outcome o) { got = o; });
    ASSERT_FALSE(p.start(0).has_value());
    EXPECT_TRUE(p.running());
    loop.run_until(got, 10);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->status, Status::ProcErr);
    EXPECT_EQ(got->code, 5);
    EXPECT_FALSE(p.running());
}

TEST(ExternalProcess, PassesTheEnvironmentAlone) {
    Loop loop;
    std::optional<Outcome> got;
    // PATH is empty and nothing else is set: the command sees only what it is given.
    ExternalProcess p(shell("[ -z \"$HOME\" ] && [ \"$HAPROXY_SERVER_CURCONN\" = 7 ] && "
                            "[ \"$0\" = x ] && [ \"$1\" = y ]"),
                      loop.raw, [&](Outcome o) { got = o; });
    ASSERT_FALSE(p.start(7).has_value());
    loop.run_until(got, 10);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->status, Status::ProcOk);
}

TEST(ExternalProcess, KillEndsTheGroupSilently) {
    Loop loop;
    std::optional<Outcome> got;
    char dir[] = "/tmp/sluice-ext-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string pidfile = std::string(dir) + "/pid";
    ExternalProcess p(shell("/bin/sleep 30 & echo $! > " + pidfile + "; wait"), loop.raw,
                      [&](Outcome o) { got = o; });
    ASSERT_FALSE(p.start(0).has_value());
    pid_t grandchild = 0;
    for (int i = 0; i < 5000 && grandchild == 0; ++i) {
        std::ifstream in(pidfile);
        if (!(in >> grandchild)) grandchild = 0;
        usleep(1000);
    }
    ASSERT_GT(grandchild, 0);
    p.kill(false);
    EXPECT_FALSE(p.running());
    // The command's own child goes with it (reaped by init, not us: poll until it is gone).
    bool gone = false;
    for (int i = 0; i < 5000 && !gone; ++i) {
        ev_run(loop.raw, EVRUN_NOWAIT);
        std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
        std::string text;
        std::getline(stat, text);
        gone = text.empty() || text.substr(text.rfind(')') + 2, 1) == "Z";
        usleep(1000);
    }
    EXPECT_TRUE(gone);
    EXPECT_FALSE(got.has_value());  // a killed command reports nothing
    unlink(pidfile.c_str());
    rmdir(dir);
}

TEST(ExternalProcess, MissingCommandExits255) {
    Loop loop;
    std::optional<Outcome> got;
    ExternalCommand c = shell("");
    c.command = "no-such-command";
    c.path = "/nonexistent";
    ExternalProcess p(std::move(c), loop.raw, [&](Outcome o) { got = o; });
    ASSERT_FALSE(p.start(0).has_value());
    loop.run_until(got, 10);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->status, Status::ProcErr);
    EXPECT_EQ(got->code, 255);
}

}  // namespace
}  // namespace sluice::check

namespace sluice::check {
namespace {

TEST(ExternalProcess, ScriptWithoutShebangRunsWithSh) {
    // As execvp (HAProxy's): a file the kernel cannot run is given to /bin/sh.
    char dir[] = "/tmp/sluice-ext-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string file = std::string(dir) + "/check";
    {
        std::ofstream out(file);
        out << "exit 6\n";
    }
    ASSERT_EQ(chmod(file.c_str(), 0755), 0);
    Loop loop;
    std::optional<Outcome> got;
    ExternalCommand c = shell("");
    c.command = file;
    ExternalProcess p(std::move(c), loop.raw, [&](Outcome o) { got = o; });
    ASSERT_FALSE(p.start(0).has_value());
    loop.run_until(got, 10);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->code, 6);
    unlink(file.c_str());
    rmdir(dir);
}

}  // namespace
}  // namespace sluice::check
