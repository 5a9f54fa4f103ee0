// k8syaml reads YAML documents as Kubernetes does (sigs.k8s.io/yaml: go-yaml v2, YAML 1.1 types,
// keys made strings) and prints each as one line of JSON, or {"k8syaml/error": "..."}. Documents come on
// stdin separated by NUL bytes. The tests use it as the oracle for "the same object under YAML 1.1".
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/yaml"
)

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, doc := range bytes.Split(input, []byte{0}) {
		converted, err := yaml.YAMLToJSON(doc)
		if err != nil {
			line, _ := json.Marshal(map[string]string{"k8syaml/error": err.Error()})
			converted = line
		}
		out.Write(converted)
		out.WriteByte('\n')
	}
}
