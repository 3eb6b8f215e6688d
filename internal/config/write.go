package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SetProfileProperties adds or updates properties of the profile name in
// the file at path, creating the file (mode 0600) or the [profiles.<name>]
// section when missing. Everything else in the file — comments, order,
// other sections — is kept as written; a property already present
// (matched ignoring case) has its line replaced. The result is parsed
// before it replaces the file, which is written atomically with its mode
// kept. Values are written as TOML strings, so a value of "${NAME}" stays
// a reference to the environment.
func SetProfileProperties(path, name string, props []Property) error {
	if name == "" {
		return errors.New("config: cannot update a profile with an empty name")
	}
	data, err := os.ReadFile(path)
	mode := fs.FileMode(0o600)
	switch {
	case err == nil:
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	case errors.Is(err, fs.ErrNotExist):
		data = nil
	default:
		return fmt.Errorf("config: cannot update profile %q: %w", name, err)
	}
	src := string(data)
	if _, err := Parse(path, src, LoadOptions{LookupEnv: anyEnv}); err != nil {
		return fmt.Errorf("config: cannot update profile %q: the file does not parse: %w", name, err)
	}
	out, err := setProfile(src, name, props)
	if err != nil {
		return fmt.Errorf("config: cannot update profile %q in %s: %w", name, path, err)
	}
	if _, err := Parse(path, out, LoadOptions{LookupEnv: anyEnv}); err != nil {
		return fmt.Errorf("config: updating profile %q would break %s (%v); edit it by hand", name, path, err)
	}
	return writeAtomic(path, []byte(out), mode)
}

// anyEnv resolves every ${NAME} reference, so that validating a file
// being edited does not depend on the environment.
func anyEnv(string) (string, bool) { return "", true }

// setProfile edits TOML text: see SetProfileProperties.
func setProfile(src, name string, props []Property) (string, error) {
	keys := scanLines(src)
	header := -1 // index in keys of [profiles.<name>]
	for i, k := range keys {
		if k.header && !k.arrayTable && equalPath(k.path, []string{"profiles", name}) {
			header = i
		}
	}
	if header < 0 {
		if f, err := Parse("", src, LoadOptions{LookupEnv: anyEnv}); err == nil {
			if _, err := f.Profile(name); err == nil {
				return "", errors.New("the profile is not written as a [profiles.<name>] section; edit the file by hand")
			}
		}
		var b strings.Builder
		if out := strings.TrimRight(src, "\n"); out != "" {
			b.WriteString(out)
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "[profiles.%s]\n", quoteKey(name))
		for _, p := range props {
			fmt.Fprintf(&b, "%s = %s\n", quoteKey(p.Key), quoteString(p.Value))
		}
		return b.String(), nil
	}
	lines := strings.Split(src, "\n")
	insertAfter := keys[header].endLine - 1 // 0-based line index
	var added []string
	for _, p := range props {
		found := false
		for i := header + 1; i < len(keys) && !keys[i].header; i++ {
			k := keys[i]
			if len(k.path) != 3 || !strings.EqualFold(k.path[2], p.Key) {
				continue
			}
			if k.endLine != k.line {
				return "", fmt.Errorf("%s spans several lines; edit it by hand", k.path[2])
			}
			old := lines[k.line-1]
			indent := old[:len(old)-len(strings.TrimLeft(old, " \t"))]
			lines[k.line-1] = indent + quoteKey(k.path[2]) + " = " + quoteString(p.Value)
			found = true
		}
		if !found {
			added = append(added, quoteKey(p.Key)+" = "+quoteString(p.Value))
		}
	}
	for i := header + 1; i < len(keys) && !keys[i].header; i++ {
		insertAfter = keys[i].endLine - 1
	}
	out := append(append(append([]string(nil), lines[:insertAfter+1]...), added...), lines[insertAfter+1:]...)
	res := strings.Join(out, "\n")
	if !strings.HasSuffix(res, "\n") {
		res += "\n"
	}
	return res, nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory and a rename, so that readers never see a partial file.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("config: cannot create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("config: cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		tmp.Close()
		return fmt.Errorf("config: cannot write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("config: cannot write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("config: cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config: cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("config: cannot write %s: %w", path, err)
	}
	return nil
}
