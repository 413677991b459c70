package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browserTab starts a headless Chromium (Debian's chromium package) with
// a fresh profile and returns a tab's context, bounded by timeout.
// Without chromium the test skips, and fails under CI=true.
func browserTab(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(requireTool(t, "chromium", "apt-get install -y chromium")),
		chromedp.Headless,
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(800, 600),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// browserStep runs actions in the tab; on failure it saves a screenshot
// (in the test's artifact directory, kept with go test -artifacts) and
// logs the page's HTML and location, then fails the test.
func browserStep(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		browserFail(t, ctx, name, "%v", err)
	}
}

// browserValue runs one action returning a string, failing like browserStep.
func browserValue(t *testing.T, ctx context.Context, name string, a chromedp.Action[string]) string {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		browserFail(t, ctx, name, "%v", err)
	}
	return v
}

func browserFail(t *testing.T, ctx context.Context, name, format string, args ...any) {
	t.Helper()
	// A fresh context: the tab's own may be what timed out.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	file := strings.NewReplacer(" ", "-", "/", "-").Replace(name)
	if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(90)); err == nil {
		p := filepath.Join(t.ArtifactDir(), file+".png")
		if os.WriteFile(p, png, 0o644) == nil {
			t.Logf("screenshot: %s", p)
		}
	}
	if doc, err := chromedp.Run(sctx, chromedp.OuterHTML("html")); err == nil {
		t.Logf("page at %s:\n%s", name, doc)
	}
	if loc, err := chromedp.Run(sctx, chromedp.Location()); err == nil {
		t.Logf("location: %s", loc)
	}
	t.Fatalf("%s: "+format, append([]any{name}, args...)...)
}

// screenshotEnv names the directory the browser tests write the pages'
// screenshots to (the README's come from there): unset, none are written.
const screenshotEnv = "AUTHGATE_SCREENSHOTS"

// browserScreenshot saves the page (its body, as wide as the window) as
// name.png in the directory $AUTHGATE_SCREENSHOTS, when it is set.
func browserScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(screenshotEnv)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("body")))
	if err != nil {
		browserFail(t, ctx, "screenshot "+name, "%v", err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

// browserCookies returns the cookies the browser holds for urls, by name.
func browserCookies(t *testing.T, ctx context.Context, urls ...string) map[string]*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	if err != nil {
		browserFail(t, ctx, "cookies", "%v", err)
	}
	out := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		out[c.Name] = c
	}
	return out
}
