package queue

import "github.com/actormq/actormq/storage/store"

// deleteBelowMsg tells a queue actor that commit-log segments below
// commitLogMin were deleted (storage-format.md §11).
type deleteBelowMsg struct{ commitLogMin int64 }

// DeleteBelow tells every queue actor to drop consume-queue files whose units
// all point below commitLogMin and to move its min offset up. The cleaner
// calls it after deleting commit-log segments. Any goroutine; never blocks.
func (r *Registry) DeleteBelow(commitLogMin int64) {
	r.entries.Range(func(k, _ any) bool {
		r.route(k.(store.QueueKey), &deleteBelowMsg{commitLogMin: commitLogMin})
		return true
	})
}

// deleteBelow runs on the queue actor, the owner of the consume queue's files.
func (q *queueActor) deleteBelow(m *deleteBelowMsg) {
	if err := q.e.cq.DeleteBelow(m.commitLogMin); err != nil {
		q.r.log.Error().Err(err).Str("topic", q.e.key.Topic).Int32("queueId", q.e.key.QueueID).
			Int64("commitLogMin", m.commitLogMin).Msg("consume queue retention failed")
	}
}
