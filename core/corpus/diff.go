package corpus

import (
	"bytes"
	"fmt"
	"strings"
)

// diffContext is how many unchanged lines surround each change.
const diffContext = 3

// maxDiffCells bounds the LCS table; past it Compare reports only the first
// differing line, which is enough to find a problem in an answer that large.
const maxDiffCells = 4 << 20

// Diff returns "" when want and got are identical, else a line diff
// ("-" want, "+" got) with line numbers, so a failing runner shows what
// changed instead of two walls of text.
func Diff(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	a, b := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	var ops []diffOp
	if len(a)*len(b) <= maxDiffCells {
		ops = lcsDiff(a, b)
	} else {
		ops = firstDifference(a, b)
	}
	var out strings.Builder
	out.WriteString("--- want\n+++ got\n")
	for _, hunk := range hunks(ops) {
		fmt.Fprintf(&out, "@@ want line %d, got line %d @@\n", hunk[0].a+1, hunk[0].b+1)
		for _, op := range hunk {
			fmt.Fprintf(&out, "%c%s\n", op.kind, op.text)
		}
	}
	if bytes.Equal(bytes.TrimSuffix(want, []byte("\n")), bytes.TrimSuffix(got, []byte("\n"))) {
		out.WriteString("(only the final newline differs)\n")
	}
	return out.String()
}

type diffOp struct {
	kind byte // ' ', '-', '+'
	text string
	a, b int // line indexes in want and got at this op
}

func lcsDiff(a, b []string) []diffOp {
	// lcs[i][j] is the length of the longest common subsequence of a[i:], b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], i, j})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', a[i], i, j}) // removals first, as diff -u does
			i++
		default:
			ops = append(ops, diffOp{'+', b[j], i, j})
			j++
		}
	}
	return ops
}

// firstDifference is the fallback for huge inputs: the common prefix, then
// the first differing line of each side.
func firstDifference(a, b []string) []diffOp {
	var ops []diffOp
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		ops = append(ops, diffOp{' ', a[i], i, i})
		i++
	}
	if i < len(a) {
		ops = append(ops, diffOp{'-', a[i] + "  (first difference; answer too large to diff fully)", i, i})
	}
	if i < len(b) {
		ops = append(ops, diffOp{'+', b[i], i, i})
	}
	return ops
}

// hunks keeps the changed ops with diffContext unchanged lines around them.
func hunks(ops []diffOp) [][]diffOp {
	keep := make([]bool, len(ops))
	for k, op := range ops {
		if op.kind == ' ' {
			continue
		}
		for m := max(0, k-diffContext); m <= min(len(ops)-1, k+diffContext); m++ {
			keep[m] = true
		}
	}
	var out [][]diffOp
	var cur []diffOp
	for k, op := range ops {
		if !keep[k] {
			if cur != nil {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, op)
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}
