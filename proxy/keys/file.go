package keys

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFile writes k's private key to a new file at path in the PEM form of
// [Key.MarshalPEM]. It creates missing parent directories with mode 0700
// (existing directories are left as they are) and the file with mode 0600,
// then syncs the file and its directory to stable storage.
//
// WriteFile never overwrites: if path exists, it returns an error wrapping
// fs.ErrExist. If writing the file fails part way, WriteFile removes it; if
// only the final directory sync fails, the complete file is kept. It
// returns an error for HMAC keys, which have no PEM form.
func WriteFile(path string, k *Key) error {
	data, err := k.MarshalPEM()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keys: %w", err) // *fs.PathError names the path
	}
	if err := writeSync(f, data); err != nil {
		os.Remove(path)
		return fmt.Errorf("keys: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return nil
}

// writeSync writes data to f, syncs and closes it.
func writeSync(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a new directory entry in dir durable. Windows cannot sync
// directories and does not need to.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
