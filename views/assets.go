package views

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Asset is one embedded file served to browsers.
type Asset struct {
	Name        string // as served: "app.3f2a9c1b.css"
	ContentType string
	Body        []byte
}

var assets, assetPaths = loadAssets()

func loadAssets() (map[string]Asset, map[string]string) {
	byName, paths := map[string]Asset{}, map[string]string{}
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		body, err := static.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		name := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:4]) + ext
		ct := "application/octet-stream"
		switch ext {
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		byName[name] = Asset{Name: name, ContentType: ct, Body: body}
		paths[e.Name()] = "/static/" + name
	}
	return byName, paths
}

// AssetPath returns the path under which the embedded file name is served;
// it changes whenever the file does, so browsers may cache it for ever.
func AssetPath(name string) string { return assetPaths[name] }

// LookupAsset returns the embedded file served as name.
func LookupAsset(name string) (Asset, bool) {
	a, ok := assets[name]
	return a, ok
}
