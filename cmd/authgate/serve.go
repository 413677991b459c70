package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/proxy"
	"github.com/authgate/authgate/proxy/assemble"
	"github.com/authgate/authgate/proxy/logwriter"
	"github.com/authgate/authgate/proxy/metrics"
	"github.com/authgate/authgate/proxy/respond"
)

// revocationSync is how often revocations written by other processes
// (replicas, 'authgate users') are loaded from the store.
const revocationSync = 5 * time.Second

// serveCmd runs the traffic and admin listeners until ctx is done.
func serveCmd(ctx context.Context, c *command, st streams, args []string) error {
	stderr := st.err
	fs := c.flags()
	path := configFlag(fs, "config `file`")
	logFormat := fs.String("log-format", "", "log `format`: json or text (default: $AUTHGATE_LOG_FORMAT, else log.format, else json)")
	logLevel := fs.String("log-level", "", "log `level`: debug, info, warn or error (default: $AUTHGATE_LOG_LEVEL, else log.level, else info)")
	logFlush := fs.Duration("log-flush", 100*time.Millisecond, "write log lines out at most this `interval` after they are logged, many at once; 0 writes each line at once")
	if err := c.parse(fs, args, st); err != nil {
		return err
	}
	if err := requireFlag(fs, "config", *path); err != nil {
		return err
	}
	if *logFlush < 0 || *logFlush > 10*time.Second {
		return fmt.Errorf("%w: serve: -log-flush %s: want 0 to 10s", errUsage, *logFlush)
	}
	// A bad flag is a usage error, found before the config is read.
	if _, err := newLogger(io.Discard, orDefault(*logFormat, "json"), orDefault(*logLevel, "info")); err != nil {
		return fmt.Errorf("%w: serve: %v", errUsage, err)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	format, level, err := logSettings(*logFormat, *logLevel, os.LookupEnv, cfg.Log)
	if err != nil {
		return err
	}
	if *logFlush > 0 {
		lw := logwriter.New(stderr, 0, *logFlush)
		defer lw.Close() // last, after "authgate stopped"
		stderr = lw
	}
	logger, err := newLogger(stderr, format, level)
	if err != nil {
		return err
	}
	logWarnings(logger, cfg)
	m := metrics.New(version, commit)
	res, err := assemble.Open(ctx, cfg, assemble.Options{Logger: logger, Metrics: m})
	if err != nil {
		return err
	}
	defer res.Close()
	snap, err := assemble.Build(cfg, res)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	gw := proxy.New(snap.Gateway)
	defer gw.Close() // before res.Close: the snapshot gives its resources back

	errLog := slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	sv := cfg.Server
	traffic := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: sv.ReadHeaderTimeout,
		ReadTimeout:       sv.ReadTimeout,
		WriteTimeout:      sv.WriteTimeout,
		IdleTimeout:       sv.IdleTimeout,
		MaxHeaderBytes:    sv.MaxHeaderBytes,
		ErrorLog:          errLog,
	}
	var cert *certificate
	if snap.Certificate != nil {
		cert = &certificate{}
		cert.cur.Store(snap.Certificate)
		traffic.TLSConfig = cert.tlsConfig(cfg.TLS)
	}
	adminTLS := cert != nil && cfg.TLS.Admin
	admin := &http.Server{
		Handler:           adminHandler(gw, m),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          errLog,
	}
	trafficLn, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	adminLn, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		trafficLn.Close()
		return fmt.Errorf("admin_listen: %w", err)
	}
	logger.Info("authgate listening", "version", version, "listen", trafficLn.Addr().String(),
		"admin_listen", adminLn.Addr().String(), "tls", cfg.TLS != nil, "routes", len(cfg.Routes))

	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	go res.SyncRevocations(bg, revocationSync)
	rl := &reloader{path: *path, gw: gw, res: res, cert: cert, logger: logger, metrics: m, running: cfg, sum: fileSum(*path)}
	rl.watched = watchSum(*path, cfg)
	m.ConfigReload("success", hex.EncodeToString(rl.sum))
	go rl.run(bg)

	errc := make(chan error, 2)
	go func() {
		if cert != nil {
			errc <- traffic.ServeTLS(trafficLn, "", "")
		} else {
			errc <- traffic.Serve(trafficLn)
		}
	}()
	go func() {
		if adminTLS {
			admin.TLSConfig = cert.tlsConfig(cfg.TLS)
			errc <- admin.ServeTLS(adminLn, "", "")
		} else {
			errc <- admin.Serve(adminLn)
		}
	}()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	// Stop accepting; let requests and streams in flight finish within the
	// grace period; then the deferred calls close the store.
	grace := sv.ShutdownGrace
	logger.Info("authgate stopping", "grace", grace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = errors.Join(traffic.Shutdown(shutdownCtx), admin.Shutdown(shutdownCtx))
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("authgate stopped")
	return nil
}

// adminHandler serves the admin listener: /healthz (the process is alive),
// /readyz (it can serve: store reachable, every issuer has keys) and
// /metrics (Prometheus).
func adminHandler(gw *proxy.Gateway, m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		respond.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		rd := gw.Readiness(ctx)
		status := http.StatusOK
		if !rd.Ready {
			status = http.StatusServiceUnavailable
		}
		respond.JSON(w, status, rd)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		respond.Error(w, http.StatusNotFound, "not found")
	})
	return mux
}

// logSettings picks the log format and level: a flag wins over the
// environment (AUTHGATE_LOG_FORMAT, AUTHGATE_LOG_LEVEL), which wins over the
// config file's log section. A bad environment value is an error naming
// the variable.
func logSettings(flagFormat, flagLevel string, lookupEnv func(string) (string, bool), file config.Log) (format, level string, err error) {
	format, level = file.Format, file.Level
	if v, ok := lookupEnv("AUTHGATE_LOG_FORMAT"); ok && v != "" {
		if v != "json" && v != "text" {
			return "", "", fmt.Errorf("AUTHGATE_LOG_FORMAT=%q: want json or text", v)
		}
		format = v
	}
	if v, ok := lookupEnv("AUTHGATE_LOG_LEVEL"); ok && v != "" {
		var lv slog.Level
		if lv.UnmarshalText([]byte(v)) != nil {
			return "", "", fmt.Errorf("AUTHGATE_LOG_LEVEL=%q: want debug, info, warn or error", v)
		}
		level = v
	}
	return orDefault(flagFormat, format), orDefault(flagLevel, level), nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want json or text", format)
}

// logWarnings logs what cfg allows but probably should not (see
// config.Config.Warnings), at startup and on every reload.
func logWarnings(logger *slog.Logger, cfg *config.Config) {
	for _, w := range cfg.Warnings() {
		logger.Warn("config warning", "warning", w)
	}
}
