package sizeclass

import "testing"

func TestClasses(t *testing.T) {
	c := Classes{MinShift: 6, Count: 3} // 64, 128, 256
	for _, tc := range []struct{ n, for_, holding int }{
		{0, 0, -1}, {1, 0, -1}, {63, 0, -1}, {64, 0, 0}, {65, 1, 0}, {127, 1, 0},
		{128, 1, 1}, {129, 2, 1}, {255, 2, 1}, {256, 2, 2}, {257, -1, -1}, {1 << 20, -1, -1},
	} {
		if got := c.For(tc.n); got != tc.for_ {
			t.Errorf("For(%d) = %d, want %d", tc.n, got, tc.for_)
		}
		if got := c.Holding(tc.n); got != tc.holding {
			t.Errorf("Holding(%d) = %d, want %d", tc.n, got, tc.holding)
		}
		if k := c.For(tc.n); k >= 0 && c.Size(k) < tc.n {
			t.Errorf("class %d of %d holds only %d", k, tc.n, c.Size(k))
		}
	}
	if c.Max() != 256 {
		t.Errorf("Max = %d, want 256", c.Max())
	}
}
