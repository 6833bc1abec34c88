package body

// MarshalJSON methods make every encoder (EncodeJSON, json.Marshal) write
// the presence clients rely on: nil maps as {} and nil slices as [] instead
// of null. Each converts to a method-less alias type to reuse encoding/json
// without recursing. Value receivers, so values and pointers both use them.

// MarshalJSON writes the EncodeRouteData form.
func (r TopicRouteData) MarshalJSON() ([]byte, error) { return EncodeRouteData(&r), nil }

// MarshalJSON writes brokerAddrs always as an object, ids in numeric order.
func (b BrokerData) MarshalJSON() ([]byte, error) { return appendBrokerData(nil, &b), nil }

// MarshalJSON writes nil tables as {}.
func (c ClusterInfo) MarshalJSON() ([]byte, error) {
	type plain ClusterInfo
	c.BrokerAddrTable = orEmptyMap(c.BrokerAddrTable)
	c.ClusterAddrTable = orEmptyMap(c.ClusterAddrTable)
	return marshalNoEscape(plain(c))
}

// MarshalJSON writes a nil topicList as [] (clients index it directly).
func (t TopicList) MarshalJSON() ([]byte, error) {
	type plain TopicList
	t.TopicList = orEmptySlice(t.TopicList)
	return marshalNoEscape(plain(t))
}

// MarshalJSON writes a nil table as {}.
func (k KVTable) MarshalJSON() ([]byte, error) {
	type plain KVTable
	k.Table = orEmptyMap(k.Table)
	return marshalNoEscape(plain(k))
}

// MarshalJSON writes a nil list as [].
func (c ConsumerIDList) MarshalJSON() ([]byte, error) {
	type plain ConsumerIDList
	c.ConsumerIDList = orEmptySlice(c.ConsumerIDList)
	return marshalNoEscape(plain(c))
}

// MarshalJSON writes nil attributes as {} (as Java does).
func (t TopicConfig) MarshalJSON() ([]byte, error) {
	type plain TopicConfig
	t.Attributes = orEmptyMap(t.Attributes)
	return marshalNoEscape(plain(t))
}

// MarshalJSON writes a nil topic table as {}.
func (w TopicConfigSerializeWrapper) MarshalJSON() ([]byte, error) {
	type plain TopicConfigSerializeWrapper
	w.TopicConfigTable = orEmptyMap(w.TopicConfigTable)
	return marshalNoEscape(plain(w))
}

// MarshalJSON writes a nil filter server list as [].
func (r RegisterBrokerBody) MarshalJSON() ([]byte, error) {
	type plain RegisterBrokerBody
	r.FilterServerList = orEmptySlice(r.FilterServerList)
	return marshalNoEscape(plain(r))
}

// MarshalJSON writes nil tagsSet/codeSet as [] and codeSet entries as
// numbers (Java's form).
func (s SubscriptionData) MarshalJSON() ([]byte, error) {
	type plain SubscriptionData
	s.TagsSet = orEmptySlice(s.TagsSet)
	s.CodeSet = orEmptySlice(s.CodeSet)
	return marshalNoEscape(plain(s))
}

// MarshalJSON writes a nil subscription set as [].
func (c ConsumerData) MarshalJSON() ([]byte, error) {
	type plain ConsumerData
	c.SubscriptionDataSet = orEmptySlice(c.SubscriptionDataSet)
	return marshalNoEscape(plain(c))
}

// MarshalJSON writes nil producer/consumer sets as [].
func (h HeartbeatData) MarshalJSON() ([]byte, error) {
	type plain HeartbeatData
	h.ProducerDataSet = orEmptySlice(h.ProducerDataSet)
	h.ConsumerDataSet = orEmptySlice(h.ConsumerDataSet)
	return marshalNoEscape(plain(h))
}

// MarshalJSON writes nil attributes as {}.
func (g SubscriptionGroupConfig) MarshalJSON() ([]byte, error) {
	type plain SubscriptionGroupConfig
	g.Attributes = orEmptyMap(g.Attributes)
	return marshalNoEscape(plain(g))
}

// MarshalJSON writes nil tables as {}.
func (w SubscriptionGroupWrapper) MarshalJSON() ([]byte, error) {
	type plain SubscriptionGroupWrapper
	w.SubscriptionGroupTable = orEmptyMap(w.SubscriptionGroupTable)
	w.ForbiddenTable = orEmptyMap(w.ForbiddenTable)
	return marshalNoEscape(plain(w))
}

// MarshalJSON writes a nil offset table as {}.
func (w ConsumerOffsetWrapper) MarshalJSON() ([]byte, error) {
	type plain ConsumerOffsetWrapper
	w.OffsetTable = orEmptyMap(w.OffsetTable)
	return marshalNoEscape(plain(w))
}

func orEmptyMap[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}

func orEmptySlice[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}
