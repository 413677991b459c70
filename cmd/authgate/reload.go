package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy"
	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/metrics"
)

// watchInterval is how often the config file is checked for changes.
const watchInterval = 2 * time.Second

// reloader applies a changed configuration to a running server: load,
// validate, then swap atomically; a bad configuration is refused with its
// problems logged, and the running one keeps serving.
type reloader struct {
	path    string
	gw      *proxy.Gateway
	res     *assemble.Resources
	cert    *certificate // nil without TLS
	logger  *slog.Logger
	metrics *metrics.Metrics
	// running is the configuration in service, for settings a reload
	// cannot change (listeners, store).
	running *config.Config
	sum     []byte // hash of the file last loaded
	// watched hashes the file and the secret files it names (tokens.
	// hmac_secret_file, store_file, postgres.password_file, a provider's
	// client_secret_file and private_key_file), so a rotated
	// Kubernetes or Docker secret is reloaded too. It is never published:
	// a secret's hash stays in the process.
	watched []byte
}

// run reloads on SIGHUP and whenever the file's content changes, until ctx
// is done.
func (rl *reloader) run(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			rl.reload("SIGHUP")
		case <-tick.C:
			if sum := watchSum(rl.path, rl.running); sum != nil && !bytes.Equal(sum, rl.watched) {
				rl.reload("file changed")
			}
		}
	}
}

func (rl *reloader) reload(why string) {
	rl.sum = fileSum(rl.path)
	rl.watched = watchSum(rl.path, rl.running)
	cfg, err := config.Load(rl.path)
	if err != nil {
		rl.metrics.ConfigReload("failure", "")
		rl.logger.Error("config reload refused; the running config keeps serving", "trigger", why, "error", err)
		return
	}
	if cfg.Listen != rl.running.Listen || cfg.AdminListen != rl.running.AdminListen ||
		cfg.Store != rl.running.Store || (cfg.TLS == nil) != (rl.running.TLS == nil) {
		rl.logger.Warn("listeners, store and turning TLS on or off change only on restart", "trigger", why)
	}
	logWarnings(rl.logger, cfg)
	snap, err := assemble.Build(cfg, rl.res)
	if err != nil {
		rl.metrics.ConfigReload("failure", "")
		rl.logger.Error("config reload refused; the running config keeps serving", "trigger", why, "error", err)
		return
	}
	rl.gw.Swap(snap.Gateway)
	if rl.cert != nil && snap.Certificate != nil {
		rl.cert.cur.Store(snap.Certificate)
	}
	rl.running = cfg
	rl.watched = watchSum(rl.path, cfg)
	rl.metrics.ConfigReload("success", hex.EncodeToString(rl.sum))
	rl.logger.Info("config reloaded", "trigger", why, "routes", len(cfg.Routes), "sha256", hex.EncodeToString(rl.sum))
}

// fileSum hashes the file at path; nil when it cannot be read (a file being
// replaced), so a watcher simply looks again later.
func fileSum(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// watchSum hashes the config file at path and the secret files cfg names;
// nil when the config file cannot be read. A secret file that cannot be
// read counts as empty, so its return is a change too.
func watchSum(path string, cfg *config.Config) []byte {
	h := sha256.New()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	h.Write(b)
	for _, f := range cfg.SecretFiles() {
		s, _ := os.ReadFile(f)
		sum := sha256.Sum256(s)
		h.Write(sum[:])
	}
	return h.Sum(nil)
}
