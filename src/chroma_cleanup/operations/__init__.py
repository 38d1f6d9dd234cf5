"""Operations: each plans what it would change, then applies the plan and counts every outcome."""
